#include "CSelfSignedCertificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/// A fresh P-256 key, or NULL.
static EVP_PKEY *p256_key(void) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (context != NULL && EVP_PKEY_keygen_init(context) == 1 && EVP_PKEY_CTX_set_group_name(context, "P-256") == 1) {
        EVP_PKEY_generate(context, &key);
    }
    EVP_PKEY_CTX_free(context);
    return key;
}

/// Adds the extension `nid` with `value` in OpenSSL's configuration syntax; 1 on success.
static int add_extension(X509 *certificate, int nid, const char *value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
    if (extension == NULL) return 0;
    int added = X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
    return added;
}

/// A random positive 64-bit serial number; 1 on success.
static int set_random_serial(X509 *certificate) {
    unsigned char bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return 0;
    bytes[0] &= 0x7f;
    int64_t serial = 0;
    for (size_t index = 0; index < sizeof bytes; index++) serial = (serial << 8) | bytes[index];
    return ASN1_INTEGER_set_int64(X509_get_serialNumber(certificate), serial == 0 ? 1 : serial);
}

/// What `write` puts in a memory BIO, as a NUL-terminated string the caller frees; NULL on failure.
static char *pem_string(BIO *bio) {
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    if (length <= 0 || data == NULL) return NULL;
    char *copy = malloc((size_t)length + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, data, (size_t)length);
    copy[length] = '\0';
    return copy;
}

int pollbench_self_signed_certificate(const char *common_name, const char *alt_names, long valid_from_offset,
                                      long valid_for, char **certificate_pem, char **private_key_pem) {
    int failed = 0;
    EVP_PKEY *key = p256_key();
    X509 *certificate = X509_new();
    BIO *certificate_bio = BIO_new(BIO_s_mem()), *key_bio = BIO_new(BIO_s_mem());
    char *certificate_text = NULL, *key_text = NULL;
    if (key == NULL || certificate == NULL || certificate_bio == NULL || key_bio == NULL) { failed = 1; goto done; }
    X509_NAME *name = X509_get_subject_name(certificate);
    if (X509_set_version(certificate, 2) != 1 || set_random_serial(certificate) != 1) { failed = 2; goto done; }
    if (X509_gmtime_adj(X509_getm_notBefore(certificate), valid_from_offset) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(certificate), valid_for) == NULL) { failed = 3; goto done; }
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) != 1
        || X509_set_issuer_name(certificate, name) != 1 || X509_set_pubkey(certificate, key) != 1) { failed = 4; goto done; }
    if (add_extension(certificate, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 1
        || add_extension(certificate, NID_key_usage, "digitalSignature,keyCertSign") != 1
        || add_extension(certificate, NID_ext_key_usage, "serverAuth") != 1
        || add_extension(certificate, NID_subject_alt_name, alt_names) != 1) { failed = 5; goto done; }
    if (X509_sign(certificate, key, EVP_sha256()) <= 0) { failed = 6; goto done; }
    if (PEM_write_bio_X509(certificate_bio, certificate) != 1
        || PEM_write_bio_PrivateKey(key_bio, key, NULL, NULL, 0, NULL, NULL) != 1) { failed = 7; goto done; }
    certificate_text = pem_string(certificate_bio);
    key_text = pem_string(key_bio);
    if (certificate_text == NULL || key_text == NULL) { failed = 8; goto done; }
    *certificate_pem = certificate_text;
    *private_key_pem = key_text;
    certificate_text = key_text = NULL;
done:
    free(certificate_text);
    if (key_text != NULL) { OPENSSL_cleanse(key_text, strlen(key_text)); free(key_text); }
    BIO_free(certificate_bio);
    BIO_free(key_bio);
    X509_free(certificate);
    EVP_PKEY_free(key);
    return failed;
}
