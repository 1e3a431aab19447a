/*
 * tlshs: a minimal TLS handshake loop, like `openssl s_time -www`, for bench/tls/run.sh.
 *
 * Why it exists: s_time (OpenSSL 3.0) marks its session "not resumable" whenever the server closes
 * the TCP connection without a TLS close_notify (OpenSSL 3 reports that as the fatal error
 * "unexpected eof while reading", openssl/openssl#11378). The appliance closes HTTP/1.0 connections
 * that way, so `s_time -reuse -www /` never resumes against it, while nginx sends close_notify.
 * This client does the same loop with SSL_OP_IGNORE_UNEXPECTED_EOF (-ignore-eof), so the resumed
 * handshake rate of both servers can be measured with the same client, and it counts resumptions.
 *
 * Per connection: socket + connect (TCP_NODELAY), SSL_connect, optional "GET <path> HTTP/1.0" and
 * read until the server closes, then close without sending close_notify (as s_time does).
 * -reuse offers the newest session of the previous connection (TLS 1.3: the last ticket received).
 * No SNI and no certificate verification (as s_time); the handshake signature is still checked.
 *
 * Build: cc -O2 -o tlshs tlshs.c -lssl -lcrypto
 * Usage: tlshs -connect 127.0.0.1:19443 (-tls1_2|-tls1_3) (-new|-reuse) -time SECONDS
 *              [-www PATH] [-cipher LIST] [-ciphersuites LIST] [-ignore-eof]
 * Prints one line: conns=N resumed=N errors=N seconds=S rate=R
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: tlshs -connect IP:PORT (-tls1_2|-tls1_3) (-new|-reuse) -time SECONDS [-www PATH] [-cipher LIST] [-ciphersuites LIST] [-ignore-eof]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *www = NULL, *cipher = NULL, *suites = NULL;
    int version = 0, reuse = -1, ignore_eof = 0;
    double seconds = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-connect") && i + 1 < argc) connect_to = argv[++i];
        else if (!strcmp(a, "-tls1_2")) version = TLS1_2_VERSION;
        else if (!strcmp(a, "-tls1_3")) version = TLS1_3_VERSION;
        else if (!strcmp(a, "-new")) reuse = 0;
        else if (!strcmp(a, "-reuse")) reuse = 1;
        else if (!strcmp(a, "-time") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(a, "-www") && i + 1 < argc) www = argv[++i];
        else if (!strcmp(a, "-cipher") && i + 1 < argc) cipher = argv[++i];
        else if (!strcmp(a, "-ciphersuites") && i + 1 < argc) suites = argv[++i];
        else if (!strcmp(a, "-ignore-eof")) ignore_eof = 1;
        else usage();
    }
    if (!connect_to || !version || reuse < 0 || seconds <= 0 || seconds > 600) usage();

    char host[64];
    const char *colon = strrchr(connect_to, ':');
    if (!colon || (size_t)(colon - connect_to) >= sizeof host) usage();
    memcpy(host, connect_to, colon - connect_to);
    host[colon - connect_to] = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
    /* Loopback only: this is a load generator. */
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "tlshs: only 127.0.0.0/8 addresses are accepted\n");
        return 2;
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { ERR_print_errors_fp(stderr); return 1; }
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (cipher && !SSL_CTX_set_cipher_list(ctx, cipher)) { ERR_print_errors_fp(stderr); return 1; }
    if (suites && !SSL_CTX_set_ciphersuites(ctx, suites)) { ERR_print_errors_fp(stderr); return 1; }
    if (ignore_eof) SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);

    char request[512];
    int request_len = www ? snprintf(request, sizeof request, "GET %s HTTP/1.0\r\n\r\n", www) : 0;
    char buf[16384];
    SSL_SESSION *session = NULL;
    long conns = 0, resumed = 0, errors = 0;
    double start = now(), end = start + seconds, t = start;

    while ((t = now()) < end) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) { perror("socket"); return 1; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            errors++;
            close(fd);
            if (errors > 1000) { perror("connect"); break; }
            continue;
        }
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (reuse && session) SSL_set_session(ssl, session);
        int ok = SSL_connect(ssl) == 1;
        if (ok && www) {
            /* Read until the server closes; how it closes (close_notify or bare EOF) does not fail the connection here,
               but without -ignore-eof OpenSSL 3 marks the session not resumable on a bare EOF, exactly as in s_time. */
            ok = SSL_write(ssl, request, request_len) == request_len;
            while (ok && SSL_read(ssl, buf, sizeof buf) > 0) {
            }
        }
        if (ok) {
            conns++;
            if (SSL_session_reused(ssl)) resumed++;
            if (reuse) {
                SSL_SESSION *s = SSL_get1_session(ssl);
                if (s) { SSL_SESSION_free(session); session = s; }
            }
        } else {
            errors++;
            if (errors <= 3) ERR_print_errors_fp(stderr);
        }
        ERR_clear_error();
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl);
        close(fd);
        if (errors > 1000) break;
    }
    double elapsed = now() - start;
    printf("conns=%ld resumed=%ld errors=%ld seconds=%.3f rate=%.1f\n", conns, resumed, errors, elapsed, conns / elapsed);
    SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
    return errors > 1000 ? 1 : 0;
}
