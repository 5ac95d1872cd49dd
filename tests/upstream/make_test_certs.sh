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
# Signed by the CA for another host name only.
openssl req "${ec[@]}" -keyout other_host.key -out other_host.csr -subj "/CN=elsewhere.example" 2>/dev/null
printf 'subjectAltName=DNS:elsewhere.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > other_host.ext
openssl x509 -req -in other_host.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out other_host.pem -days 3650 \
  -extfile other_host.ext 2>/dev/null
# Signed by the CA for localhost, valid only in 2020: `openssl ca` is the
# one OpenSSL 3.0 tool that takes explicit validity dates.
openssl req "${ec[@]}" -keyout expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
mkdir -p ca-db
: > ca-db/index.txt
printf '[ca]\ndefault_ca=test\n[test]\ndatabase=ca-db/index.txt\nnew_certs_dir=ca-db\nserial=ca-db/serial\npolicy=any\ndefault_md=sha256\nunique_subject=no\ncopy_extensions=none\n[any]\ncommonName=supplied\n[ext]\nsubjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ca.cnf
echo 1000 > ca-db/serial
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -notext \
  -startdate 20200101000000Z -enddate 20200201000000Z -extensions ext 2>/dev/null
touch stamp
