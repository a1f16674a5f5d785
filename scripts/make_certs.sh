#!/usr/bin/env bash
# TLS material for a local tinynas: a private CA, the controller's server
# certificate, client certificates for workers and nasctl, and an API token.
#
#   scripts/make_certs.sh DIR [NAME_OR_IP ...]
#
# Writes into DIR (created if needed):
#   ca.pem ca.key            the CA (give ca.pem to every client, and to the
#                            controller as --tls_client_ca)
#   server.pem server.key    the controller's certificate; its names are
#                            localhost, 127.0.0.1 and every NAME_OR_IP given
#   worker.pem worker.key    a client certificate for nas-worker (mutual TLS),
#                            subject OU=worker: the worker API only
#   nasctl.pem nasctl.key    a client certificate for nasctl (optional use),
#                            subject OU=api: the search API only
#   api_tokens               one bearer token (64 hex digits) for the search
#                            API: --api_tokens_file of the controller and
#                            --token_file of nasctl
# Idempotent: what exists and is still right (signed by this CA, the same
# server names or client role, valid for 30 more days) is kept; anything
# else is made again (so client certificates made before the roles were
# written get them).
# Private keys and the token file are mode 0600. Needs the openssl command.
set -euo pipefail

die() { echo "make_certs: $*" >&2; exit 1; }

dir=${1:-}
[[ -n $dir ]] || die "usage: make_certs.sh DIR [NAME_OR_IP ...]"
shift
command -v openssl >/dev/null || die "the openssl command is missing (apt-get install openssl)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
umask 077

readonly days_ca=3650 days_leaf=825 renew_s=$((30 * 24 * 3600))

# The server's subjectAltName: localhost, 127.0.0.1 and the arguments.
sans="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
    entry="IP:$name"
  elif [[ $name =~ ^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$ ]]; then
    entry="DNS:$name"
  else
    die "not a host name or IP address: '$name'"
  fi
  [[ ,$sans, == *,$entry,* ]] || sans="$sans,$entry"
done

new_key() {  # FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ||
    die "cannot make a key in $1"
  chmod 600 "$1"
}

# True when CERT exists, is signed by the CA, matches KEY and stays valid for
# 30 more days.
still_good() {  # CERT KEY
  local cert=$1 key=$2
  [[ -s $cert && -s $key ]] || return 1
  openssl verify -CAfile "$dir/ca.pem" "$cert" >/dev/null 2>&1 || return 1
  openssl x509 -in "$cert" -noout -checkend "$renew_s" >/dev/null 2>&1 || return 1
  [[ $(openssl x509 -in "$cert" -noout -pubkey) == \
     $(openssl pkey -in "$key" -pubout 2>/dev/null) ]]
}

make_ca() {
  if [[ -s $dir/ca.pem && -s $dir/ca.key ]] &&
     openssl x509 -in "$dir/ca.pem" -noout -checkend "$renew_s" >/dev/null 2>&1; then
    return 0
  fi
  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days_ca" \
    -subj "/O=tinynas/CN=tinynas local CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem" 2>/dev/null || die "cannot make the CA in $dir"
  chmod 644 "$dir/ca.pem"
  # A new CA invalidates every certificate made by the old one.
  rm -f "$dir"/server.pem "$dir"/worker.pem "$dir"/nasctl.pem
}

# True when CERT's subject holds the organizational unit ROLE.
has_role() {  # CERT ROLE
  local subject
  subject=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null) || return 1
  [[ ,${subject#subject=}, == *,OU=$2,* ]]
}

make_leaf() {  # NAME SUBJECT EXTENSIONS
  local name=$1 subject=$2 extensions=$3
  local cert=$dir/$name.pem key=$dir/$name.key
  local ext_file csr
  ext_file=$(mktemp) csr=$(mktemp)
  printf '%s\n' "$extensions" >"$ext_file"
  [[ -s $key ]] || new_key "$key"
  openssl req -new -key "$key" -subj "$subject" -out "$csr" 2>/dev/null &&
    openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
      -CAcreateserial -CAserial "$dir/ca.srl" -sha256 -days "$days_leaf" \
      -extfile "$ext_file" -out "$cert" 2>/dev/null ||
    { rm -f "$ext_file" "$csr"; die "cannot sign $cert"; }
  rm -f "$ext_file" "$csr"
  chmod 644 "$cert"
  chmod 600 "$key"
}

server_sans() {
  openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null |
    tail -n +2 | sed -e 's/^ *//' -e 's/IP Address:/IP:/g' -e 's/, /,/g'
}

make_ca
if ! still_good "$dir/server.pem" "$dir/server.key" || [[ $(server_sans) != "$sans" ]]; then
  make_leaf server /O=tinynas/CN=tinynas-controller "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans"
fi
# The controller admits a client certificate to the worker API by OU=worker
# and to the search API by OU=api (controller/auth.h).
for client in worker:worker nasctl:api; do
  role=${client#*:} client=${client%%:*}
  if ! still_good "$dir/$client.pem" "$dir/$client.key" ||
     ! has_role "$dir/$client.pem" "$role"; then
    make_leaf "$client" "/O=tinynas/OU=$role/CN=tinynas-$client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
  fi
done
if [[ ! -s $dir/api_tokens ]]; then
  openssl rand -hex 32 >"$dir/api_tokens.tmp" || die "cannot make a token"
  mv "$dir/api_tokens.tmp" "$dir/api_tokens"
fi
chmod 600 "$dir"/*.key "$dir/api_tokens"
