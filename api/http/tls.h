/* api/http/tls.h: the HTTPS certificate. */
#ifndef API_TLS_H
#define API_TLS_H

/* Creates a self-signed certificate (ECDSA P-256, SHA-256, valid 825 days) for 'hostname' with
 * subjectAltName DNS:hostname, DNS:localhost, IP:127.0.0.1 and IP:::1, and writes the key to
 * key_path (mode 0600) and the certificate to cert_path (0644). Returns 0 or -errno / -EIO. */
int api_tls_make_selfsigned(const char *hostname, const char *cert_path, const char *key_path);

#endif
