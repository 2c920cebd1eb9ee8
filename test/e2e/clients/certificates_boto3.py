"""Drives Gatehouse's certificates and keys with boto3: server certificates, signing
certificates, SSH public keys and service-specific credentials, their paginators and errors.
Makes its certificates and keys with the cryptography package.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import base64
import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from checks import check, expect_error, iam, sts

account = sts.get_caller_identity()["Account"]
now = datetime.datetime.now(datetime.timezone.utc)
PKCS8 = dict(encoding=serialization.Encoding.PEM, format=serialization.PrivateFormat.PKCS8,
             encryption_algorithm=serialization.NoEncryption())


def certificate(cn, key, issuer=None, issuer_key=None, ca=False, serial=None):
    """A PEM certificate for key, issued by issuer (signed with issuer_key) or self-signed."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.subject if issuer else name).public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, cert.public_bytes(serialization.Encoding.PEM).decode()


def pem_key(key):
    return key.private_bytes(**PKCS8).decode()


# Server certificates: a chain, its errors, paging, rename, tags, delete.
ca_key, leaf_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
ca, ca_pem = certificate("py-ca", ca_key, ca=True)
_, leaf_pem = certificate("py.example.com", leaf_key, issuer=ca, issuer_key=ca_key)
_, other_pem = certificate("py-other", other_key)
meta = iam.upload_server_certificate(ServerCertificateName="py-web", Path="/py/", CertificateBody=leaf_pem,
                                     CertificateChain=ca_pem, PrivateKey=pem_key(leaf_key),
                                     Tags=[{"Key": "team", "Value": "web"}])["ServerCertificateMetadata"]
check("server certificate arn", meta["Arn"], f"arn:aws:iam::{account}:server-certificate/py/py-web")
check("expiration is a datetime", type(meta["Expiration"]).__name__, "datetime")
for i in range(3):
    iam.upload_server_certificate(ServerCertificateName=f"py-page-{i}", CertificateBody=other_pem, PrivateKey=pem_key(other_key))
got = iam.get_server_certificate(ServerCertificateName="py-web")["ServerCertificate"]
check("body and chain", (got["CertificateBody"], got["CertificateChain"]), (leaf_pem.strip(), ca_pem.strip()))
check("no private key in the answer", "PRIVATE KEY" in str(got), False)


def server_certificates():
    pages = iam.get_paginator("list_server_certificates").paginate(PaginationConfig={"PageSize": 1})
    return sorted(m["Arn"] for page in pages for m in page["ServerCertificateMetadataList"])


before = server_certificates()
check("paginated server certificates", len(before), 4)
expect_error("EntityAlreadyExists", iam.upload_server_certificate, ServerCertificateName="PY-WEB",
             CertificateBody=other_pem, PrivateKey=pem_key(other_key))
e = expect_error("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="py-x",
                 CertificateBody="certbody", PrivateKey=pem_key(other_key))
check("MalformedCertificate text", e.response["Error"]["Message"], "Unable to parse certificate. Please ensure the certificate is in PEM format.")
expect_error("KeyPairMismatch", iam.upload_server_certificate, ServerCertificateName="py-x",
             CertificateBody=leaf_pem, PrivateKey=pem_key(other_key))
e = expect_error("MalformedCertificate", iam.upload_server_certificate, ServerCertificateName="py-x",
                 CertificateBody=leaf_pem, CertificateChain=other_pem, PrivateKey=pem_key(leaf_key))
check("chain error index", e.response["Error"]["Message"].endswith("The index within the chain of the invalid certificate is: -1"), True)
check("refused uploads stored nothing", server_certificates(), before)
iam.update_server_certificate(ServerCertificateName="py-web", NewServerCertificateName="py-site", NewPath="/elb/")
check("renamed", iam.get_server_certificate(ServerCertificateName="py-site")["ServerCertificate"]["ServerCertificateMetadata"]["Path"], "/elb/")
expect_error("NoSuchEntity", iam.get_server_certificate, ServerCertificateName="py-web")
iam.tag_server_certificate(ServerCertificateName="py-site", Tags=[{"Key": "env", "Value": "prod"}])
iam.untag_server_certificate(ServerCertificateName="py-site", TagKeys=["team"])
check("tags", iam.list_server_certificate_tags(ServerCertificateName="py-site")["Tags"], [{"Key": "env", "Value": "prod"}])
for name in ["py-site"] + [f"py-page-{i}" for i in range(3)]:
    iam.delete_server_certificate(ServerCertificateName=name)
check("all deleted", server_certificates(), [])

# Signing certificates of a user and of the root user.
iam.create_user(UserName="py-signer")
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
signing = [certificate(f"py-signer-{i}", rsa_key, serial=i + 1) for i in range(3)]
first = iam.upload_signing_certificate(UserName="py-signer", CertificateBody=signing[0][1])["Certificate"]
check("certificate id is base32 SHA-1", first["CertificateId"],
      base64.b32encode(hashlib.sha1(signing[0][0].public_bytes(serialization.Encoding.DER)).digest()).decode())
check("body as given", first["CertificateBody"], signing[0][1])
iam.upload_signing_certificate(UserName="py-signer", CertificateBody=signing[1][1])
e = expect_error("LimitExceeded", iam.upload_signing_certificate, UserName="py-signer", CertificateBody=signing[2][1])
check("LimitExceeded text", e.response["Error"]["Message"], "Cannot exceed quota for CertificatesPerUser: 2")
expect_error("DuplicateCertificate", iam.upload_signing_certificate, CertificateBody=signing[0][1])
e = expect_error("MalformedCertificate", iam.upload_signing_certificate, UserName="py-signer", CertificateBody="notacert")
check("MalformedCertificate text", e.response["Error"]["Message"], "Certificate notacert is malformed.")
expect_error("InvalidCertificate", iam.upload_signing_certificate, CertificateBody=other_pem)
expect_error("NoSuchEntity", iam.upload_signing_certificate, UserName="py-nobody", CertificateBody=signing[2][1])
iam.update_signing_certificate(UserName="py-signer", CertificateId=first["CertificateId"], Status="Inactive")
listed = iam.list_signing_certificates(UserName="py-signer")["Certificates"]
check("statuses", sorted(c["Status"] for c in listed), ["Active", "Inactive"])
e = expect_error("DeleteConflict", iam.delete_user, UserName="py-signer")
check("DeleteConflict text", e.response["Error"]["Message"], "Cannot delete entity, must delete certificates first.")
for c in listed:
    iam.delete_signing_certificate(UserName="py-signer", CertificateId=c["CertificateId"])
root_cert = iam.upload_signing_certificate(CertificateBody=signing[2][1])["Certificate"]
check("root's certificate has no user name", "UserName" in root_cert, False)
iam.delete_signing_certificate(CertificateId=root_cert["CertificateId"])
iam.delete_user(UserName="py-signer")

# SSH public keys in OpenSSH and PEM formats.
iam.create_user(UserName="py-git")
ssh_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
openssh = ssh_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
pem_pub = ssh_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
blob = base64.b64decode(openssh.split()[1])
uploaded = iam.upload_ssh_public_key(UserName="py-git", SSHPublicKeyBody=openssh + " py@example")["SSHPublicKey"]
check("fingerprint: MD5 of the key blob", uploaded["Fingerprint"], ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest()))
kid = uploaded["SSHPublicKeyId"]
check("PEM encoding", iam.get_ssh_public_key(UserName="py-git", SSHPublicKeyId=kid, Encoding="PEM")["SSHPublicKey"]["SSHPublicKeyBody"], pem_pub)
check("SSH encoding", iam.get_ssh_public_key(UserName="py-git", SSHPublicKeyId=kid, Encoding="SSH")["SSHPublicKey"]["SSHPublicKeyBody"], openssh + " py@example")
expect_error("DuplicateSSHPublicKey", iam.upload_ssh_public_key, UserName="py-git", SSHPublicKeyBody=pem_pub)
short = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
expect_error("InvalidPublicKey", iam.upload_ssh_public_key, UserName="py-git",
             SSHPublicKeyBody=short.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode())
ec_pub = other_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
expect_error("UnrecognizedPublicKeyEncoding", iam.upload_ssh_public_key, UserName="py-git", SSHPublicKeyBody=ec_pub)
e = expect_error("NoSuchEntity", iam.update_ssh_public_key, UserName="py-git", SSHPublicKeyId="APKAXXXXXXXXXXXXXXXX", Status="Inactive")
check("NoSuchEntity text", e.response["Error"]["Message"], "The Public Key with id APKAXXXXXXXXXXXXXXXX cannot be found.")
check("refused uploads stored nothing", [k["SSHPublicKeyId"] for k in iam.list_ssh_public_keys(UserName="py-git")["SSHPublicKeys"]], [kid])
iam.update_ssh_public_key(UserName="py-git", SSHPublicKeyId=kid, Status="Inactive")
check("key status", iam.list_ssh_public_keys(UserName="py-git")["SSHPublicKeys"][0]["Status"], "Inactive")
e = expect_error("DeleteConflict", iam.delete_user, UserName="py-git")
check("DeleteConflict text", e.response["Error"]["Message"], "Cannot delete entity, must remove referenced objects first.")
iam.delete_ssh_public_key(UserName="py-git", SSHPublicKeyId=kid)

# Service-specific credentials.
cred = iam.create_service_specific_credential(UserName="py-git", ServiceName="codecommit.amazonaws.com")["ServiceSpecificCredential"]
check("service user name", cred["ServiceUserName"], f"py-git-at-{account}")
check("password length", len(cred["ServicePassword"]), 60)
second = iam.create_service_specific_credential(UserName="py-git", ServiceName="codecommit.amazonaws.com")["ServiceSpecificCredential"]
check("second service user name", second["ServiceUserName"], f"py-git+1-at-{account}")
iam.create_service_specific_credential(UserName="py-git", ServiceName="cassandra.amazonaws.com")
expect_error("LimitExceeded", iam.create_service_specific_credential, UserName="py-git", ServiceName="codecommit.amazonaws.com")
e = expect_error("NoSuchEntity", iam.create_service_specific_credential, UserName="py-git", ServiceName="lambda.amazonaws.com")
check("unsupported service text", e.response["Error"]["Message"], "No such service lambda.amazonaws.com is supported for Service Specific Credentials")
listed = iam.list_service_specific_credentials(UserName="py-git")["ServiceSpecificCredentials"]
check("listed without passwords", (len(listed), any("ServicePassword" in c for c in listed)), (3, False))
check("service filter", len(iam.list_service_specific_credentials(UserName="py-git", ServiceName="cassandra.amazonaws.com")["ServiceSpecificCredentials"]), 1)
reset = iam.reset_service_specific_credential(UserName="py-git", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])["ServiceSpecificCredential"]
check("reset gives a new password", reset["ServicePassword"] != cred["ServicePassword"] and len(reset["ServicePassword"]) == 60, True)
iam.update_service_specific_credential(UserName="py-git", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"], Status="Inactive")
statuses = {c["ServiceSpecificCredentialId"]: c["Status"] for c in iam.list_service_specific_credentials(UserName="py-git")["ServiceSpecificCredentials"]}
check("credential status", statuses[cred["ServiceSpecificCredentialId"]], "Inactive")
e = expect_error("NoSuchEntity", iam.delete_service_specific_credential, UserName="py-git", ServiceSpecificCredentialId="ACCAXXXXXXXXXXXXXXXXX")
check("unknown credential text", e.response["Error"]["Message"], "No such credential ACCAXXXXXXXXXXXXXXXXX exists")
expect_error("DeleteConflict", iam.delete_user, UserName="py-git")
for c in listed:
    iam.delete_service_specific_credential(UserName="py-git", ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"])
iam.delete_user(UserName="py-git")
print("certificates and keys: all checks passed")
