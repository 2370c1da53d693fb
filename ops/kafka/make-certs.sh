#!/usr/bin/env bash
# TLS material and the SASL login configuration for the broker's integrator listener
# (docker-compose.yml, service kafka; docs/production.md, "Integrators on Kafka").
#
#   ops/kafka/make-certs.sh HOST [OUT_DIR]
#
# HOST is the name (or address) integrators reach the broker by: KAFKA_EXTERNAL_HOST in .env.
# OUT_DIR (default ops/kafka/secrets) receives
#   ca.pem                     the CA certificate: hand it to each integrator (ssl.ca.location)
#   ca.key                     the CA's key: move it offline once the broker certificate is made
#   broker.p12                 the broker's key and certificate chain (PKCS#12)
#   keystore_creds, key_creds  the keystore's password, as the Kafka image reads it
#   jaas.conf                  SCRAM logins on the broker (credentials live in the cluster's metadata)
set -euo pipefail
host=${1:?usage: make-certs.sh HOST [OUT_DIR]}
out=${2:-$(dirname "$0")/secrets}
days=${ARGUS_CERT_DAYS:-825}
mkdir -p "$out"
chmod 700 "$out"
cd "$out"
umask 077
if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi
pass=$(openssl rand -hex 24)
openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/CN=Argus Kafka integrator CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -keyout broker.key -out broker.csr -subj "/CN=$host" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
  "$san" >broker.ext
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days "$days" \
  -extfile broker.ext 2>/dev/null
openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -out broker.p12 \
  -passout "pass:$pass"
printf '%s' "$pass" >keystore_creds
printf '%s' "$pass" >key_creds
cat >jaas.conf <<'JAAS'
KafkaServer {
  org.apache.kafka.common.security.scram.ScramLoginModule required;
};
JAAS
rm -f broker.csr broker.ext broker.key broker.pem ca.srl
chmod 644 ca.pem
echo "wrote $PWD for $san; the Kafka image runs as uid 1000: chown -R 1000:1000 $PWD" >&2
