#!/usr/bin/env bash
# Make a throw-away RFC 3161 time-stamp authority for tests in folder $1 (created): an Ed25519 root CA (ca.pem,
# ca.key), a P-256 TSA certificate with the critical timeStamping EKU signed by it (tsa.pem, tsa.key; OpenSSL 3.0
# cannot sign time-stamp replies with Ed25519), and ts.cnf for `openssl ts -reply -config ts.cnf`. $2 names the CA
# (default "avow test CA"). Test use only.
set -euo pipefail
dir=$1
name=${2:-avow test CA}
mkdir -p "$dir"
cd "$dir"
openssl genpkey -algorithm ed25519 -out ca.key 2>/dev/null
openssl req -new -x509 -key ca.key -out ca.pem -days 3650 -subj "/CN=$name" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out tsa.key 2>/dev/null
openssl req -new -key tsa.key -out tsa.csr -subj "/CN=$name TSA" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' > tsa.ext
openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 3650 -extfile tsa.ext 2>/dev/null
echo 01 > serial
cat > ts.cnf <<CNF
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = $PWD
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/tsa.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
