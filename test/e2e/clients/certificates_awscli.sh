#!/usr/bin/env bash
# Drives Gatehouse's certificates and keys with the stock aws CLI: server certificates, signing
# certificates, SSH public keys and service-specific credentials, and their errors. Makes its
# certificates with openssl and its SSH keys with ssh-keygen. Needs GATEHOUSE_ENDPOINT and root
# credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"

account=$(awsx sts get-caller-identity --query Account)
quiet() { "$@" >/dev/null 2>&1; }

# Certificates: a CA, a leaf it issued, an unrelated EC certificate, three RSA certificates.
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days 2 -subj /CN=cli-ca
quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" -subj /CN=cli.example.com
quiet openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -set_serial 7 -days 2 -out "$tmp/leaf.crt"
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/other.key" -out "$tmp/other.crt" -days 2 -subj /CN=cli-other
quiet openssl genrsa -out "$tmp/rsa.key" 2048
for i in 1 2 3; do quiet openssl req -x509 -key "$tmp/rsa.key" -out "$tmp/sign$i.crt" -days 2 -set_serial "$i" -subj "/CN=cli-signer-$i"; done

# Server certificates.
arn=$(awsx iam upload-server-certificate --server-certificate-name cli-web --path /cli/ \
  --certificate-body "file://$tmp/leaf.crt" --certificate-chain "file://$tmp/ca.crt" --private-key "file://$tmp/leaf.key" \
  --tags Key=team,Value=web --query ServerCertificateMetadata.Arn)
eq "server certificate arn" "$arn" "arn:aws:iam::$account:server-certificate/cli/cli-web"
eq "certificate body" "$(awsx iam get-server-certificate --server-certificate-name cli-web --query ServerCertificate.CertificateBody)" "$(cat "$tmp/leaf.crt")"
eq "certificate chain" "$(awsx iam get-server-certificate --server-certificate-name cli-web --query ServerCertificate.CertificateChain)" "$(cat "$tmp/ca.crt")"
eq "no private key returned" "$(awsx --output json iam get-server-certificate --server-certificate-name cli-web | grep -c PRIVATE || true)" "0"
eq "list by path" "$(awsx iam list-server-certificates --path-prefix /cli/ --query 'ServerCertificateMetadataList[].ServerCertificateName')" "cli-web"
before=$(awsx iam list-server-certificates --query 'ServerCertificateMetadataList[].Arn')
expect_error EntityAlreadyExists iam upload-server-certificate --server-certificate-name CLI-WEB --certificate-body "file://$tmp/other.crt" --private-key "file://$tmp/other.key"
expect_error MalformedCertificate iam upload-server-certificate --server-certificate-name cli-x --certificate-body notacert --private-key "file://$tmp/other.key"
expect_error KeyPairMismatch iam upload-server-certificate --server-certificate-name cli-x --certificate-body "file://$tmp/leaf.crt" --private-key "file://$tmp/other.key"
expect_error MalformedCertificate iam upload-server-certificate --server-certificate-name cli-x --certificate-body "file://$tmp/leaf.crt" --certificate-chain "file://$tmp/other.crt" --private-key "file://$tmp/leaf.key"
expect_error NoSuchEntity iam get-server-certificate --server-certificate-name cli-nope
eq "refused uploads stored nothing" "$(awsx iam list-server-certificates --query 'ServerCertificateMetadataList[].Arn')" "$before"
awsx iam update-server-certificate --server-certificate-name cli-web --new-server-certificate-name cli-site --new-path /elb/
eq "renamed certificate" "$(awsx iam get-server-certificate --server-certificate-name cli-site --query ServerCertificate.ServerCertificateMetadata.Arn)" "arn:aws:iam::$account:server-certificate/elb/cli-site"
expect_error NoSuchEntity iam get-server-certificate --server-certificate-name cli-web
awsx iam tag-server-certificate --server-certificate-name cli-site --tags Key=env,Value=prod
awsx iam untag-server-certificate --server-certificate-name cli-site --tag-keys team
eq "certificate tags" "$(awsx iam list-server-certificate-tags --server-certificate-name cli-site --query 'Tags[].[Key,Value]')" "env	prod"
awsx iam delete-server-certificate --server-certificate-name cli-site
expect_error NoSuchEntity iam delete-server-certificate --server-certificate-name cli-site

# Signing certificates.
awsx iam create-user --user-name cli-signer >/dev/null
id1=$(awsx iam upload-signing-certificate --user-name cli-signer --certificate-body "file://$tmp/sign1.crt" --query Certificate.CertificateId)
eq "signing certificate id is base32 SHA-1" "$id1" "$(openssl x509 -in "$tmp/sign1.crt" -outform DER | openssl dgst -sha1 -binary | python3 -c 'import base64,sys; print(base64.b32encode(sys.stdin.buffer.read()).decode())')"
awsx iam upload-signing-certificate --user-name cli-signer --certificate-body "file://$tmp/sign2.crt" >/dev/null
expect_error LimitExceeded iam upload-signing-certificate --user-name cli-signer --certificate-body "file://$tmp/sign3.crt"
expect_error DuplicateCertificate iam upload-signing-certificate --certificate-body "file://$tmp/sign1.crt"
expect_error MalformedCertificate iam upload-signing-certificate --user-name cli-signer --certificate-body notacert
expect_error InvalidCertificate iam upload-signing-certificate --certificate-body "file://$tmp/other.crt"
awsx iam update-signing-certificate --user-name cli-signer --certificate-id "$id1" --status Inactive
eq "certificate statuses" "$(awsx iam list-signing-certificates --user-name cli-signer --query "Certificates[?CertificateId=='$id1'].Status")" "Inactive"
expect_error NoSuchEntity iam delete-signing-certificate --user-name cli-signer --certificate-id XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
expect_error DeleteConflict iam delete-user --user-name cli-signer
for id in $(awsx iam list-signing-certificates --user-name cli-signer --query 'Certificates[].CertificateId'); do
  awsx iam delete-signing-certificate --user-name cli-signer --certificate-id "$id"
done
root_id=$(awsx iam upload-signing-certificate --certificate-body "file://$tmp/sign3.crt" --query Certificate.CertificateId)
eq "root's signing certificates" "$(awsx iam list-signing-certificates --query 'Certificates[].CertificateId')" "$root_id"
awsx iam delete-signing-certificate --certificate-id "$root_id"
awsx iam delete-user --user-name cli-signer

# SSH public keys, made with ssh-keygen.
ssh-keygen -q -t rsa -b 2048 -N '' -C cli@example -f "$tmp/id_rsa"
ssh-keygen -q -t rsa -b 1024 -N '' -f "$tmp/short"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ed"
awsx iam create-user --user-name cli-git >/dev/null
key=$(awsx iam upload-ssh-public-key --user-name cli-git --ssh-public-key-body "file://$tmp/id_rsa.pub" --query SSHPublicKey.SSHPublicKeyId)
eq "fingerprint as ssh-keygen -E md5" "$(awsx iam get-ssh-public-key --user-name cli-git --ssh-public-key-id "$key" --encoding SSH --query SSHPublicKey.Fingerprint)" \
  "$(ssh-keygen -l -E md5 -f "$tmp/id_rsa.pub" | awk '{print substr($2, 5)}')"
eq "SSH encoding" "$(awsx iam get-ssh-public-key --user-name cli-git --ssh-public-key-id "$key" --encoding SSH --query SSHPublicKey.SSHPublicKeyBody)" "$(cat "$tmp/id_rsa.pub")"
eq "PEM encoding" "$(awsx iam get-ssh-public-key --user-name cli-git --ssh-public-key-id "$key" --encoding PEM --query SSHPublicKey.SSHPublicKeyBody)" "$(ssh-keygen -e -m PKCS8 -f "$tmp/id_rsa.pub")"
expect_error DuplicateSSHPublicKey iam upload-ssh-public-key --user-name cli-git --ssh-public-key-body "file://$tmp/id_rsa.pub"
expect_error InvalidPublicKey iam upload-ssh-public-key --user-name cli-git --ssh-public-key-body "file://$tmp/short.pub"
expect_error UnrecognizedPublicKeyEncoding iam upload-ssh-public-key --user-name cli-git --ssh-public-key-body "file://$tmp/ed.pub"
expect_error NoSuchEntity iam get-ssh-public-key --user-name cli-git --ssh-public-key-id APKAXXXXXXXXXXXXXXXX --encoding SSH
eq "refused uploads stored nothing" "$(awsx iam list-ssh-public-keys --user-name cli-git --query 'SSHPublicKeys[].SSHPublicKeyId')" "$key"
awsx iam update-ssh-public-key --user-name cli-git --ssh-public-key-id "$key" --status Inactive
eq "key status" "$(awsx iam list-ssh-public-keys --user-name cli-git --query 'SSHPublicKeys[0].Status')" "Inactive"
expect_error DeleteConflict iam delete-user --user-name cli-git
awsx iam delete-ssh-public-key --user-name cli-git --ssh-public-key-id "$key"

# Service-specific credentials.
cred=$(awsx iam create-service-specific-credential --user-name cli-git --service-name codecommit.amazonaws.com --query 'ServiceSpecificCredential.[ServiceSpecificCredentialId,ServiceUserName,ServicePassword]')
read -r cred_id cred_user cred_password <<<"$cred"
eq "service user name" "$cred_user" "cli-git-at-$account"
eq "password length" "${#cred_password}" "60"
eq "second service user name" "$(awsx iam create-service-specific-credential --user-name cli-git --service-name codecommit.amazonaws.com --query ServiceSpecificCredential.ServiceUserName)" "cli-git+1-at-$account"
expect_error LimitExceeded iam create-service-specific-credential --user-name cli-git --service-name codecommit.amazonaws.com
expect_error NoSuchEntity iam create-service-specific-credential --user-name cli-git --service-name lambda.amazonaws.com
eq "no passwords listed" "$(awsx --output json iam list-service-specific-credentials --user-name cli-git | grep -c ServicePassword || true)" "0"
eq "credentials of cassandra" "$(awsx iam list-service-specific-credentials --user-name cli-git --service-name cassandra.amazonaws.com --query 'length(ServiceSpecificCredentials)')" "0"
new_password=$(awsx iam reset-service-specific-credential --user-name cli-git --service-specific-credential-id "$cred_id" --query ServiceSpecificCredential.ServicePassword)
[ "$new_password" != "$cred_password" ] || fail "reset kept the password"
echo "ok  reset gives a new password"
awsx iam update-service-specific-credential --user-name cli-git --service-specific-credential-id "$cred_id" --status Inactive
eq "credential status" "$(awsx iam list-service-specific-credentials --user-name cli-git --query "ServiceSpecificCredentials[?ServiceSpecificCredentialId=='$cred_id'].Status")" "Inactive"
expect_error NoSuchEntity iam delete-service-specific-credential --user-name cli-git --service-specific-credential-id ACCAXXXXXXXXXXXXXXXXX
expect_error DeleteConflict iam delete-user --user-name cli-git
for id in $(awsx iam list-service-specific-credentials --user-name cli-git --query 'ServiceSpecificCredentials[].ServiceSpecificCredentialId'); do
  awsx iam delete-service-specific-credential --user-name cli-git --service-specific-credential-id "$id"
done
awsx iam delete-user --user-name cli-git
echo "certificates and keys: all checks passed"
