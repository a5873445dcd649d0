"""The rest of PyKMIP's operation set against Keyward: AES-128/192/256, Register (symmetric keys and
secret data), Get with key wrapping, Locate by dates, attribute changes (KMIP 1.4 and 2.0), illegal
transitions. Prints one JSON summary line (key material only as check values computed here).

usage: pykmip-operations.py <host> <port> <ca.crt> <admin.crt> <admin.key> <user.crt> <user.key> <prefix> <key-api base URL> <API key>
"""
import json
import os
import sys
import time

import requests

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_unwrap_with_padding
from kmip import enums
from kmip.core import objects as cobjects
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import objects as pobjects
from pykmip_common import connector, refused

host, port, ca, admin_cert, admin_key, user_cert, user_key, prefix, api, api_key = sys.argv[1:11]
port = int(port)
connect = connector(host, port, ca)
out = {}
factory = attribute_factories.AttributeFactory()
started = int(time.time())


def kmip_subkey(material, key_id, version=1):
    """Keyward's KMIP AES-GCM subkey (docs/kmip.md): HKDF-SHA256 of the material, no salt, info = length-prefixed
    label, tenant, key id and version; KMIP Encrypt/Decrypt run under it, never under the material REST uses."""
    tenant = requests.get(f"{api}/v1/tenant", headers={"authorization": f"Bearer {api_key}"}, verify=ca, timeout=30).json()["tenantId"]
    fields = [b"keyward/kmip/aes-gcm/v1", tenant.encode(), key_id.encode(), str(version).encode()]
    info = b"".join(len(f).to_bytes(4, "big") + f for f in fields)
    return HKDF(algorithm=hashes.SHA256(), length=len(material), salt=None, info=info).derive(material)


def enable_export(key_id):
    answer = requests.post(f"{api}/v1/keys/{key_id}/enable-export", headers={"authorization": f"Bearer {api_key}"}, verify=ca, timeout=30)
    return answer.status_code


def attribute(c, uid, name):
    _, attrs = c.get_attributes(uid, [name])
    return attrs[0].attribute_value if attrs else None


admin = connect(admin_cert, admin_key)
user = connect(user_cert, user_key)
masks = [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT, enums.CryptographicUsageMask.EXPORT]

# Create: AES-128, AES-192 and AES-256; Cryptographic Length reads back; AES-512 is refused.
created = {bits: admin.create(enums.CryptographicAlgorithm.AES, bits, cryptographic_usage_mask=masks) for bits in (128, 192, 256)}
out["created"] = {str(bits): uid for bits, uid in created.items()}
out["created_lengths"] = [attribute(admin, created[bits], "Cryptographic Length").value for bits in (128, 192, 256)]
out["create_aes512"] = refused(lambda: admin.create(enums.CryptographicAlgorithm.AES, 512))
for uid in created.values():
    admin.activate(uid)
# AES-128 and AES-192 encrypt/decrypt round trips (GCM, tag appended under KMIP 1.2).
gcm = {"block_cipher_mode": enums.BlockCipherMode.GCM, "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
iv = os.urandom(12)
roundtrips = []
for bits in (128, 192):
    ciphertext, _ = user.encrypt(b"sized by the key", uid=created[bits], cryptographic_parameters=gcm, iv_counter_nonce=iv)
    roundtrips.append(user.decrypt(ciphertext, uid=created[bits], cryptographic_parameters=gcm, iv_counter_nonce=iv) == b"sized by the key")
out["aes_roundtrips"] = roundtrips

# Register a symmetric key (AES-256, exportable) and a key-encryption key (AES-128) whose bytes we know.
material = os.urandom(32)
kek_material = os.urandom(16)
out["registered_material_hex"] = material.hex()
reg = admin.register(pobjects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, material, masks=masks, name=f"{prefix}-reg"))
kek = admin.register(pobjects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, kek_material, masks=masks[:2], name=f"{prefix}-kek"))
out["reg"], out["kek"] = reg, kek
out["register_default_name"] = refused(lambda: admin.register(pobjects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, os.urandom(32))))
out["register_by_user"] = refused(lambda: user.register(pobjects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, os.urandom(32), name=f"{prefix}-u")))
admin.activate(reg)
admin.activate(kek)
ciphertext, _ = user.encrypt(b"imported", uid=reg, cryptographic_parameters=gcm, iv_counter_nonce=iv)
out["registered_encrypts_like_local"] = ciphertext == AESGCM(material).encrypt(iv, b"imported", None)

# Register secret data: Get answers it once export is enabled; no crypto operation admits it.
secret = admin.register(pobjects.SecretData(b"correct horse battery", enums.SecretDataType.PASSWORD, name=f"{prefix}-secret"))
out["secret"] = secret
admin.activate(secret)
out["secret_object_type"] = attribute(admin, secret, "Object Type").value.name
out["secret_get_before_enable"] = refused(lambda: user.get(secret))
out["secret_encrypt"] = refused(lambda: user.encrypt(b"x", uid=secret, cryptographic_parameters=gcm))
out["enable_export"] = [enable_export(reg), enable_export(secret)]
got_secret = user.get(secret)
out["secret_get"] = [type(got_secret).__name__, bytes(got_secret.value) == b"correct horse battery"]

# Get: raw, then wrapped under the registered KEK with NIST Key Wrap and with AES-GCM.
out["get_raw_matches"] = bytes(user.get(reg).value) == material


def wrapped_get(mode):
    spec = {
        "wrapping_method": enums.WrappingMethod.ENCRYPT,
        "encryption_key_information": {"unique_identifier": kek, "cryptographic_parameters": {"block_cipher_mode": mode}},
        "encoding_option": enums.EncodingOption.NO_ENCODING,
    }
    return user.get(reg, key_wrapping_specification=spec)


nist = wrapped_get(enums.BlockCipherMode.NIST_KEY_WRAP)
out["wrap_nist"] = [aes_key_unwrap(kek_material, bytes(nist.value)) == material, nist.key_wrapping_data.get("wrapping_method").name]
gcm_wrapped = wrapped_get(enums.BlockCipherMode.GCM)
wrap_iv = gcm_wrapped.key_wrapping_data.get("iv_counter_nonce")
out["wrap_gcm"] = AESGCM(kek_material).decrypt(wrap_iv, bytes(gcm_wrapped.value), None) == material
padded = wrapped_get(enums.BlockCipherMode.AES_KEY_WRAP_PADDING)
out["wrap_padding"] = aes_key_unwrap_with_padding(kek_material, bytes(padded.value)) == material
out["wrap_with_secret"] = refused(
    lambda: user.get(
        reg,
        key_wrapping_specification={
            "wrapping_method": enums.WrappingMethod.ENCRYPT,
            "encryption_key_information": {"unique_identifier": secret},
        },
    )
)

# Locate by name, state, object type and dates (two Initial Dates make a range).
now = int(time.time())


def date(kind, value):
    return factory.create_attribute(kind, value)


out["locate_name"] = admin.locate(attributes=[factory.create_attribute(enums.AttributeType.NAME, f"{prefix}-reg")])
out["locate_secret_type"] = admin.locate(attributes=[factory.create_attribute(enums.AttributeType.OBJECT_TYPE, enums.ObjectType.SECRET_DATA)])
run_range = [date(enums.AttributeType.INITIAL_DATE, started - 5), date(enums.AttributeType.INITIAL_DATE, now + 5)]
in_range = admin.locate(attributes=run_range)
mine = [reg, kek, secret, *created.values()]
out["locate_initial_range_has_all"] = all(u in in_range for u in mine)
out["locate_initial_range_past"] = admin.locate(
    attributes=[date(enums.AttributeType.INITIAL_DATE, 946684800), date(enums.AttributeType.INITIAL_DATE, 978307200)]
)
active_range = admin.locate(
    attributes=[
        date(enums.AttributeType.ACTIVATION_DATE, started - 5),
        date(enums.AttributeType.ACTIVATION_DATE, now + 5),
        factory.create_attribute(enums.AttributeType.STATE, enums.State.ACTIVE),
    ]
)
out["locate_activation_range_has_all"] = all(u in active_range for u in mine)
out["attribute_list_secret"] = sorted(admin.get_attribute_list(secret))

# Attributes, KMIP 1.4: Modify Name renames (the alias); Name cannot be deleted; unknown attributes are refused.
admin14 = connect(admin_cert, admin_key, enums.KMIPVersion.KMIP_1_4)
admin14.modify_attribute(unique_identifier=reg, attribute=factory.create_attribute(enums.AttributeType.NAME, f"{prefix}-renamed"))
out["locate_renamed"] = admin14.locate(attributes=[factory.create_attribute(enums.AttributeType.NAME, f"{prefix}-renamed")])
out["delete_name"] = refused(lambda: admin14.delete_attribute(unique_identifier=reg, attribute_name="Name"))
out["delete_custom_missing"] = refused(lambda: admin14.delete_attribute(unique_identifier=reg, attribute_name="x-missing"))
out["modify_state"] = refused(
    lambda: admin14.modify_attribute(unique_identifier=reg, attribute=factory.create_attribute(enums.AttributeType.STATE, enums.State.ACTIVE))
)
out["modify_by_user"] = refused(
    lambda: connect(user_cert, user_key, enums.KMIPVersion.KMIP_1_4).modify_attribute(
        unique_identifier=reg, attribute=factory.create_attribute(enums.AttributeType.NAME, f"{prefix}-x")
    )
)
admin14.close()

# Attributes, KMIP 2.0: Delete Attribute by Attribute Reference is refused for State (read only).
admin20 = connect(admin_cert, admin_key, enums.KMIPVersion.KMIP_2_0)
out["delete_state_20"] = refused(
    lambda: admin20.delete_attribute(
        unique_identifier=reg, attribute_reference=cobjects.AttributeReference(vendor_identification="x", attribute_name="State")
    )
)
admin20.close()

# Revoke with compromise → Compromised; illegal transitions afterwards.
admin.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, reg, revocation_message="exposed in a test")
out["state_compromised"] = attribute(admin, reg, "State").value.name
out["activate_compromised"] = refused(lambda: admin.activate(reg))
out["destroy_compromised"] = refused(lambda: admin.destroy(reg))
out["encrypt_compromised"] = refused(lambda: user.encrypt(b"x", uid=reg, cryptographic_parameters=gcm))
admin.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, created[128])
out["revoke_again"] = refused(lambda: admin.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, created[128]))

admin.close()
user.close()
print(json.dumps(out))
