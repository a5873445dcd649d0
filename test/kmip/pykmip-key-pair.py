"""Key pairs through PyKMIP against Keyward (issue 19): Create Key Pair (RSA-2048, ECDSA P-256), Get of
the public key, Sign and Signature Verify (PKCS#1 v1.5, PSS, ECDSA), RSA-OAEP Encrypt/Decrypt, the
refusals (the private key is not served; each object is used for what it is), Locate and Revoke;
RSA-1024 as a legacy pair (created, refused to sign without the legacy policy), and a public key
registered alone (served back, verifies an outside signature, never signs).
Prints one JSON summary line: public keys, messages and signatures in hex, for the spec to check with
openssl (never private key material: Keyward does not serve it).

usage: pykmip-key-pair.py <host> <port> <ca.crt> <admin.crt> <admin.key> <user.crt> <user.key> <prefix>
"""
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from kmip import enums
from kmip.pie import objects as pobjects
from kmip.core.factories import attributes as attribute_factories
from pykmip_common import connector, refused, state_of

host, port, ca, admin_cert, admin_key, user_cert, user_key, prefix = sys.argv[1:9]
connect = connector(host, int(port), ca)
out = {}
factory = attribute_factories.AttributeFactory()
message = b"pay 100 EUR to Alice, " + prefix.encode()
out["message_hex"] = message.hex()

admin = connect(admin_cert, admin_key)
user = connect(user_cert, user_key)
A = enums.CryptographicAlgorithm

# Create Key Pair: PyKMIP answers (public uid, private uid); Keyward names them <keyId>.public and <keyId>.
rsa_public, rsa_private = admin.create_key_pair(A.RSA, 2048, public_name=prefix + "-rsa", private_name=prefix + "-rsa")
ec_public, ec_private = admin.create_key_pair(A.ECDSA, 256)
out.update(rsa_public=rsa_public, rsa_private=rsa_private, ec_public=ec_public, ec_private=ec_private)
out["state_created"] = state_of(admin, rsa_private)
out["create_rsa_1536"] = refused(lambda: admin.create_key_pair(A.RSA, 1536))
# RSA-1024 is a legacy type: created, but it signs only under the tenant's legacy policy (off here).
_, rsa1024_private = admin.create_key_pair(A.RSA, 1024)
admin.activate(rsa1024_private)
out["rsa_1024_sign"] = refused(lambda: user.sign(message, uid=rsa1024_private))
out["create_by_user"] = refused(lambda: user.create_key_pair(A.ECDSA, 256))
out["names_differ"] = refused(lambda: admin.create_key_pair(A.ECDSA, 256, public_name=prefix + "-a", private_name=prefix + "-b"))
out["sign_pre_active"] = refused(lambda: user.sign(message, uid=ec_private))
admin.activate(rsa_private)
admin.activate(ec_private)
out["state_public"] = state_of(admin, rsa_public)

# The two objects and their types (PyKMIP 0.10 cannot decode a Link attribute: the spec reads those itself).
_, attrs = admin.get_attributes(rsa_public, ["Object Type", "Cryptographic Algorithm", "Cryptographic Length"])
found = {a.attribute_name.value: a.attribute_value for a in attrs}
out["public_object_type"] = found["Object Type"].value.name
out["public_algorithm"] = found["Cryptographic Algorithm"].value.name
out["public_length"] = found["Cryptographic Length"].value
_, attrs = admin.get_attributes(rsa_private, ["Object Type"])
out["private_object_type"] = attrs[0].attribute_value.value.name

# Get: the public key (X.509 SPKI DER); the private key is refused.
public_key = user.get(rsa_public)
out["rsa_public_type"] = type(public_key).__name__
out["rsa_public_format"] = public_key.key_format_type.name
out["rsa_public_der_hex"] = public_key.value.hex()
out["ec_public_der_hex"] = user.get(ec_public).value.hex()
out["get_private"] = refused(lambda: user.get(rsa_private))

# Sign and Signature Verify.
pkcs1 = {
    "cryptographic_algorithm": A.RSA,
    "padding_method": enums.PaddingMethod.PKCS1v15,
    "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
    "digital_signature_algorithm": enums.DigitalSignatureAlgorithm.SHA256_WITH_RSA_ENCRYPTION,
}
pss = {"cryptographic_algorithm": A.RSA, "padding_method": enums.PaddingMethod.PSS, "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
ecdsa = {"cryptographic_algorithm": A.ECDSA, "digital_signature_algorithm": enums.DigitalSignatureAlgorithm.ECDSA_WITH_SHA256}
signatures = {}
for name, uid, public, params in (
    ("pkcs1", rsa_private, rsa_public, pkcs1),
    ("pss", rsa_private, rsa_public, pss),
    ("ecdsa", ec_private, ec_public, ecdsa),
):
    signature = user.sign(message, uid=uid, cryptographic_parameters=params)
    signatures[name] = signature
    out[name + "_signature_hex"] = signature.hex()
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    out[name + "_verify"] = [
        user.signature_verify(message, signature, uid=public, cryptographic_parameters=params).name,
        user.signature_verify(message + b"!", signature, uid=public, cryptographic_parameters=params).name,
        user.signature_verify(message, tampered, uid=public, cryptographic_parameters=params).name,
    ]
out["sign_with_public"] = refused(lambda: user.sign(message, uid=rsa_public, cryptographic_parameters=pkcs1))
out["ec_sign_rsa_scheme"] = refused(lambda: user.sign(message, uid=ec_private, cryptographic_parameters=pkcs1))
out["admin_sign"] = refused(lambda: admin.sign(message, uid=ec_private))

# RSA-OAEP: encrypt with the public key, decrypt with the private key.
oaep = {"cryptographic_algorithm": A.RSA, "padding_method": enums.PaddingMethod.OAEP, "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
ciphertext, _ = user.encrypt(b"a data key", uid=rsa_public, cryptographic_parameters=oaep)
out["oaep_length"] = len(ciphertext)
out["oaep_roundtrip"] = user.decrypt(ciphertext, uid=rsa_private, cryptographic_parameters=oaep) == b"a data key"
out["oaep_sha1"] = refused(
    lambda: user.encrypt(b"x", uid=rsa_public, cryptographic_parameters={**oaep, "hashing_algorithm": enums.HashingAlgorithm.SHA_1})
)
out["ec_encrypt"] = refused(lambda: user.encrypt(b"x", uid=ec_public))

# Locate: the pair's two objects by its name, each by its Object Type.
name_attr = factory.create_attribute(enums.AttributeType.NAME, prefix + "-rsa")
type_attr = factory.create_attribute(enums.AttributeType.OBJECT_TYPE, enums.ObjectType.PUBLIC_KEY)
out["locate_name"] = admin.locate(attributes=[name_attr])
out["locate_public"] = admin.locate(attributes=[name_attr, type_attr])

# Revoke (the pair): no new signatures; old ones still verify.
admin.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, ec_private)
out["state_revoked"] = [state_of(admin, ec_private), state_of(admin, ec_public)]
out["sign_after_revoke"] = refused(lambda: user.sign(message, uid=ec_private, cryptographic_parameters=ecdsa))
out["verify_after_revoke"] = user.signature_verify(message, signatures["ecdsa"], uid=ec_public, cryptographic_parameters=ecdsa).name

# Register: a private key made here (PKCS#8) becomes a pair; its signatures verify with the local public key.
local = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pkcs8 = local.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
registered = admin.register(pobjects.PrivateKey(A.RSA, 2048, pkcs8, enums.KeyFormatType.PKCS_8, name=prefix + "-reg"))
admin.activate(registered)
out["registered"] = registered
signature = user.sign(message, uid=registered, cryptographic_parameters=pss)
try:
    local.public_key().verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    out["registered_signature_verifies_locally"] = True
except Exception:  # noqa: BLE001
    out["registered_signature_verifies_locally"] = False
local_spki = local.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
out["registered_public_matches"] = user.get(registered + ".public").value == local_spki
# A public key alone (a partner's signing key): Keyward verifies with it, serves it back, never signs with it.
ec_signer = ec.generate_private_key(ec.SECP256R1())
ec_spki = ec_signer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
public_alone = admin.register(pobjects.PublicKey(A.ECDSA, 256, ec_spki, enums.KeyFormatType.X_509, name=prefix + "-pub"))
admin.activate(public_alone)
outside = ec_signer.sign(message, ec.ECDSA(hashes.SHA256()))
out["public_alone_served"] = user.get(public_alone).value == ec_spki
out["public_alone_verify"] = [
    user.signature_verify(message, outside, uid=public_alone, cryptographic_parameters=ecdsa).name,
    user.signature_verify(message + b"!", outside, uid=public_alone, cryptographic_parameters=ecdsa).name,
]
out["public_alone_sign"] = refused(lambda: user.sign(message, uid=public_alone, cryptographic_parameters=ecdsa))

admin.close()
user.close()
print(json.dumps(out))
