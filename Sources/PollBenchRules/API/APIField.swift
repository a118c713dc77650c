/// The names of the fields the client reads from the service's documents and writes into its create:
/// one spelling, which the sandbox's documents (``SessionDocuments``) write and the client (``ClientCodec``)
/// reads, so that neither can drift from the other.
public enum APIField {
    public static let verificationID = "verificationId"
    public static let status = "status"
    public static let providerID = "providerId"
    public static let flowType = "flowType"
    public static let flowDetails = "flowDetails"
    public static let authorizationURL = "authorizationUrl"
    public static let createdAt = "createdAt"
    public static let expiresAt = "expiresAt"
    public static let verifiedAt = "verifiedAt"
    public static let updatedAt = "updatedAt"
    public static let returnAt = "returnAt"
    public static let redirectURI = "redirectUri"
    public static let webhookURL = "webhookUrl"
}
