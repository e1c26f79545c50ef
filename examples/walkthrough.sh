#!/usr/bin/env bash
# awsguard walkthrough: the AWS CLI through `awsguard exec`, against a local moto_server over TLS.
#
#   examples/walkthrough.sh            # uses `awsguard` from PATH
#   AWSGUARD=target/debug/awsguard examples/walkthrough.sh
#
# Needs: awsguard, aws (AWS CLI), moto_server (pip install 'moto[server]'), openssl, python3.
# Nothing leaves the machine: every *.amazonaws.com connection is routed to moto with
# --connect-to, and moto's certificate comes from a throwaway CA trusted with --upstream-ca.
# Shows: an audited run and its summary, a blocked call, FIPS verdicts (and the fix), SARIF.
set -euo pipefail

AWSGUARD=${AWSGUARD:-awsguard}
WORK=$(mktemp -d)
MOTO_PID=
cleanup() {
    if [ -n "$MOTO_PID" ]; then kill "$MOTO_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. a throwaway upstream CA and a certificate for moto (AWS names)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$WORK/up-ca.key" -out "$WORK/up-ca.pem" -subj "/CN=walkthrough upstream CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=moto" \
    -keyout "$WORK/moto.key" -out "$WORK/moto.csr" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:amazonaws.com,DNS:*.amazonaws.com,DNS:*.us-east-1.amazonaws.com,IP:127.0.0.1" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" > "$WORK/ext.cnf"
openssl x509 -req -in "$WORK/moto.csr" -CA "$WORK/up-ca.pem" -CAkey "$WORK/up-ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK/ext.cnf" -out "$WORK/moto.pem" 2>/dev/null
echo "upstream CA: $WORK/up-ca.pem"

step "2. moto_server with TLS"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$PORT" -c "$WORK/moto.pem" -k "$WORK/moto.key" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; then break; fi
    sleep 0.2
done
echo "moto on 127.0.0.1:$PORT"

# Fake credentials, no user config: the walkthrough never touches a real account.
export AWS_ACCESS_KEY_ID=AKIAWALKTHROUGH00001 AWS_SECRET_ACCESS_KEY=walkthrough/not/a/real/secret/000000
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
ROUTE=(--ca-dir "$WORK/ca" --connect-to "*.amazonaws.com=127.0.0.1:$PORT" --upstream-ca "$WORK/up-ca.pem")

step "3. audit mode: the calls go through, the summary shows calls, TLS, FIPS verdicts, findings"
"$AWSGUARD" exec "${ROUTE[@]}" --events "$WORK/events.jsonl" -- sh -c '
    aws sqs create-queue --queue-name walkthrough --tags owner=jane.doe@example.com
    aws sts get-caller-identity'
echo "events recorded: $(wc -l < "$WORK/events.jsonl") (one JSON object per call in $WORK/events.jsonl)"

step "4. enforce mode: the email address in a tag blocks the call (nothing reaches moto)"
set +e
"$AWSGUARD" exec "${ROUTE[@]}" --mode enforce -- \
    aws sqs create-queue --queue-name blocked --tags owner=jane.doe@example.com
echo "exit code: $? (the AWS CLI's own code for a failed call)"
set -e

step "5. FIPS enforce: the standard STS endpoint is refused, with the fix in the message"
set +e
"$AWSGUARD" exec "${ROUTE[@]}" --fips enforce -- aws sts get-caller-identity
echo "exit code: $?"
set -e

step "6. ... and with AWS_USE_FIPS_ENDPOINT=true the CLI uses sts-fips and passes"
AWS_USE_FIPS_ENDPOINT=true "$AWSGUARD" exec "${ROUTE[@]}" --fips enforce -- aws sts get-caller-identity

step "7. CI gate: --fail-on turns findings into exit code 3; SARIF for code-scanning annotations"
set +e
"$AWSGUARD" exec "${ROUTE[@]}" --fail-on medium --format sarif --output "$WORK/awsguard.sarif" -- \
    aws sqs create-queue --queue-name ci --tags owner=jane.doe@example.com >/dev/null
code=$?
set -e
echo "exit code: $code"
python3 - "$WORK/awsguard.sarif" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
for r in log["runs"][0]["results"]:
    print(f'{r["level"]:8} {r["ruleId"]:18} {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]}')
PY
[ "$code" -eq 3 ]
step "done"
