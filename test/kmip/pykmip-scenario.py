"""Drives Keyward's KMIP service with PyKMIP's ProxyKmipClient; prints one JSON summary line.

usage: pykmip-scenario.py <host> <port> <ca.crt> <admin.crt> <admin.key> <user.crt> <user.key> <stranger.crt> <stranger.key> <name>
       <key-api base URL> <tenant-admin API key>
"""
import hashlib
import hmac
import json
import os
import sys

import requests

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from kmip import enums
from kmip.core import attributes as cattributes
from kmip.core.factories import attributes as attribute_factories
from kmip.core.messages import contents, messages, payloads
from pykmip_common import connector, refused, state_of

host, port, ca, admin_cert, admin_key, user_cert, user_key, stranger_cert, stranger_key, name, api, api_key = sys.argv[1:13]
port = int(port)
connect = connector(host, port, ca)
out = {}
factory = attribute_factories.AttributeFactory()


def kmip_subkey(material, key_id, version=1):
    """Keyward's KMIP AES-GCM subkey (docs/kmip.md): HKDF-SHA256 of the material, no salt, info = length-prefixed
    label, tenant, key id and version; KMIP Encrypt/Decrypt run under it, never under the material REST uses."""
    tenant = requests.get(f"{api}/v1/tenant", headers={"authorization": f"Bearer {api_key}"}, verify=ca, timeout=30).json()["tenantId"]
    fields = [b"keyward/kmip/aes-gcm/v1", tenant.encode(), key_id.encode(), str(version).encode()]
    info = b"".join(len(f).to_bytes(4, "big") + f for f in fields)
    return HKDF(algorithm=hashes.SHA256(), length=len(material), salt=None, info=info).derive(material)


admin = connect(admin_cert, admin_key)
user = connect(user_cert, user_key)

# Discover Versions and Query (low level: ProxyKmipClient has no wrapper for them in 0.10).
dv = admin.proxy.discover_versions()
out["discover_versions"] = [f"{v.major}.{v.minor}" for v in dv.protocol_versions]
q = admin.proxy.query(query_functions=[enums.QueryFunction.QUERY_OPERATIONS, enums.QueryFunction.QUERY_OBJECTS])
out["query_operations"] = sorted(o.name for o in q.operations)

# Create: AES-256 exportable (usage mask includes Export), AES-512 refused, a second non-exportable key.
uid = admin.create(
    enums.CryptographicAlgorithm.AES,
    256,
    name=name,
    cryptographic_usage_mask=[
        enums.CryptographicUsageMask.ENCRYPT,
        enums.CryptographicUsageMask.DECRYPT,
        enums.CryptographicUsageMask.EXPORT,
    ],
)
out["uid"] = uid
out["create_aes512"] = refused(lambda: admin.create(enums.CryptographicAlgorithm.AES, 512))
uid2 = admin.create(enums.CryptographicAlgorithm.AES, 256)
out["uid2"] = uid2

# Get Attributes (State, Name, algorithm, length) and Get Attribute List.
_, attrs = admin.get_attributes(uid, ["State", "Name", "Cryptographic Algorithm", "Cryptographic Length"])
values = {a.attribute_name.value: a.attribute_value for a in attrs}
out["state_created"] = values["State"].value.name
out["name"] = values["Name"].name_value.value
out["algorithm"] = values["Cryptographic Algorithm"].value.name
out["length"] = values["Cryptographic Length"].value
out["attribute_list"] = sorted(admin.get_attribute_list(uid))

# Activate; a second Activate is an illegal transition.
admin.activate(uid)
admin.activate(uid2)
out["state_activated"] = state_of(admin, uid)
out["activate_again"] = refused(lambda: admin.activate(uid))

# Locate by name, by state, by object type.
name_attr = factory.create_attribute(enums.AttributeType.NAME, name)
out["locate_name"] = admin.locate(attributes=[name_attr])
state_attr = factory.create_attribute(enums.AttributeType.STATE, enums.State.ACTIVE)
out["locate_active_has_both"] = all(u in admin.locate(attributes=[state_attr]) for u in (uid, uid2))
type_attr = factory.create_attribute(enums.AttributeType.OBJECT_TYPE, enums.ObjectType.SYMMETRIC_KEY)
out["locate_type_count"] = len(admin.locate(attributes=[type_attr]))

# Roles: a tenant-admin cannot encrypt nor export; a key-user cannot create.
gcm = {"block_cipher_mode": enums.BlockCipherMode.GCM, "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
out["admin_encrypt"] = refused(lambda: admin.encrypt(b"x", uid=uid, cryptographic_parameters=gcm))
out["admin_get"] = refused(lambda: admin.get(uid))
out["user_create"] = refused(lambda: user.create(enums.CryptographicAlgorithm.AES, 256))

# Get: refused until a tenant-admin enables export (REST, dual control); then the raw material.
out["get_before_enable"] = refused(lambda: user.get(uid))


def enable_export(key_id):
    answer = requests.post(f"{api}/v1/keys/{key_id}/enable-export", headers={"authorization": f"Bearer {api_key}"}, verify=ca, timeout=30)
    return answer.status_code


out["enable_export"] = [enable_export(uid), enable_export(uid2)]
key = user.get(uid)
material = bytes(key.value)
out["get_length"] = len(material)
out["get_not_exportable"] = refused(lambda: user.get(uid2))

# Encrypt and Decrypt (ProxyKmipClient API, KMIP 1.2, our IV): KMIP 1.2 has no tag field, so the tag follows
# the ciphertext in Data: a key created over KMIP is a KMIP key, so the same bytes as a local AES-256-GCM under
# the exported material itself (REST's data plane refuses the key; keys created over REST run under a KMIP subkey).
iv = os.urandom(12)
plaintext = b"hello kmip"
ciphertext, _ = user.encrypt(plaintext, uid=uid, cryptographic_parameters=gcm, iv_counter_nonce=iv)
out["encrypt_matches_local"] = ciphertext == AESGCM(material).encrypt(iv, plaintext, None)
out["encrypt_not_under_subkey"] = ciphertext != AESGCM(kmip_subkey(material, uid)).encrypt(iv, plaintext, None)
out["decrypt_12"] = user.decrypt(ciphertext, uid=uid, cryptographic_parameters=gcm, iv_counter_nonce=iv) == plaintext
user14 = connect(user_cert, user_key, enums.KMIPVersion.KMIP_1_4)


# KMIP 1.4: Encrypt and Decrypt with the Authenticated Encryption Tag field and AAD (payload level:
# ProxyKmipClient's API carries neither).
def call(operation, payload):
    item = messages.RequestBatchItem(operation=contents.Operation(operation), request_payload=payload)
    request = user14.proxy._build_request_message(None, [item])
    response = user14.proxy._send_and_receive_message(request)
    return response.batch_items[0]


params = cattributes.CryptographicParameters(block_cipher_mode=enums.BlockCipherMode.GCM)
enc = call(
    enums.Operation.ENCRYPT,
    payloads.EncryptRequestPayload(unique_identifier=uid, cryptographic_parameters=params, data=plaintext, auth_additional_data=b"aad"),
).response_payload
dec = call(
    enums.Operation.DECRYPT,
    payloads.DecryptRequestPayload(
        unique_identifier=uid,
        cryptographic_parameters=params,
        data=enc.data,
        iv_counter_nonce=enc.iv_counter_nonce,
        auth_additional_data=b"aad",
        auth_tag=enc.auth_tag,
    ),
).response_payload
out["decrypt_roundtrip"] = dec.data == plaintext
bad = call(
    enums.Operation.DECRYPT,
    payloads.DecryptRequestPayload(
        unique_identifier=uid,
        cryptographic_parameters=params,
        data=enc.data,
        iv_counter_nonce=enc.iv_counter_nonce,
        auth_additional_data=b"other",
        auth_tag=enc.auth_tag,
    ),
)
out["decrypt_wrong_aad"] = bad.result_reason.value.name
out["decrypt_cbc"] = refused(
    lambda: user.decrypt(b"0" * 16, uid=uid, cryptographic_parameters={"block_cipher_mode": enums.BlockCipherMode.CBC}, iv_counter_nonce=iv)
)

# MAC with an exportable HMAC-SHA256 key: the same MAC as a local HMAC under the exported key.
hmac_uid = admin.create(
    enums.CryptographicAlgorithm.HMAC_SHA256,
    256,
    cryptographic_usage_mask=[enums.CryptographicUsageMask.MAC_GENERATE, enums.CryptographicUsageMask.EXPORT],
)
admin.activate(hmac_uid)
_, mac = user.mac(b"mac me", uid=hmac_uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
enable_export(hmac_uid)
hmac_material = bytes(user.get(hmac_uid).value)
out["mac_matches_local"] = mac == hmac.new(hmac_material, b"mac me", hashlib.sha256).digest()
out["mac_with_aes_key"] = refused(lambda: user.mac(b"x", uid=uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256))

# Revoke: cessation of operation deactivates; key compromise marks the other key Compromised.
admin.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid, revocation_message="retired")
out["state_revoked"] = state_of(admin, uid)
admin.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, uid2, revocation_message="leaked in a test")
out["state_compromised"] = state_of(admin, uid2)
out["encrypt_after_revoke"] = refused(lambda: user.encrypt(b"x", uid=uid, cryptographic_parameters=gcm))

# Destroy: Keyward destroys only after a scheduled waiting period with dual control, so an immediate Destroy is refused.
out["destroy"] = refused(lambda: admin.destroy(uid))
out["get_unknown"] = refused(lambda: admin.get_attributes("key_does_not_exist", ["State"]))

admin.close()
user.close()
user14.close()

# A certificate from the trusted CA naming a principal that does not exist is refused.
def stranger_call():
    s = connect(stranger_cert, stranger_key)
    try:
        s.locate()
    finally:
        s.close()


out["stranger"] = refused(stranger_call)
print(json.dumps(out))
