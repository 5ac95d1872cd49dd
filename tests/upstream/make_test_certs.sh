#!/usr/bin/env bash
# Makes a throwaway test CA, a server certificate it signed for "localhost"
# (DNS name only, so https://127.0.0.1 fails host name verification), and a
# self-signed "localhost" certificate that no CA vouches for.
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 3650 -subj "/CN=liveai test CA" 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -extfile server.ext 2>/dev/null
openssl req -x509 "${ec[@]}" -keyout untrusted.key -out untrusted.pem -days 3650 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost" 2>/dev/null
touch stamp
