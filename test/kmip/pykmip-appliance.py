"""An appliance (a storage array) driving Keyward over KMIP with PyKMIP's ProxyKmipClient and ONE kmip-client
identity: create, register, get, encrypt/decrypt, MAC, attributes, locate, revoke and destroy, each on keys it
owns; another appliance's certificate is refused. Prints one JSON summary line.

usage: pykmip-appliance.py <host> <port> <ca.crt> <appliance.crt> <appliance.key> <other.crt> <other.key> <prefix>
       <key-api base URL> <tenant-admin API key>
"""
import hashlib
import hmac
import json
import os
import sys


from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kmip import enums
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import objects
from pykmip_common import connector, refused, state_of

host, port, ca, app_cert, app_key, other_cert, other_key, prefix, api, api_key = sys.argv[1:11]
port = int(port)
connect = connector(host, port, ca)
out = {}
factory = attribute_factories.AttributeFactory()


app = connect(app_cert, app_key)
other = connect(other_cert, other_key)
usage = [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT, enums.CryptographicUsageMask.EXPORT]
gcm = {"block_cipher_mode": enums.BlockCipherMode.GCM, "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}

# Create (PreActive), read its attributes, activate.
uid = app.create(enums.CryptographicAlgorithm.AES, 256, name=f"{prefix}-volume", cryptographic_usage_mask=usage)
out["uid"] = uid
out["state_created"] = state_of(app, uid)
out["attribute_list"] = sorted(app.get_attribute_list(uid))
app.activate(uid)
out["state_activated"] = state_of(app, uid)

# Get: its own exportable key, no administrator involved.
material = bytes(app.get(uid).value)
out["get_length"] = len(material)

# Encrypt and Decrypt: a key the appliance created over KMIP is a KMIP key, so GCM under the material itself.
iv = os.urandom(12)
ciphertext, _ = app.encrypt(b"volume block", uid=uid, cryptographic_parameters=gcm, iv_counter_nonce=iv)
out["encrypt_matches_local"] = ciphertext == AESGCM(material).encrypt(iv, b"volume block", None)
out["decrypt_roundtrip"] = app.decrypt(ciphertext, uid=uid, cryptographic_parameters=gcm, iv_counter_nonce=iv) == b"volume block"

# Register a key it brings, and MAC with a key it creates.
registered = app.register(objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, os.urandom(16), name=f"{prefix}-imported"))
out["registered_state"] = state_of(app, registered)
hmac_uid = app.create(
    enums.CryptographicAlgorithm.HMAC_SHA256,
    256,
    name=f"{prefix}-mac",
    cryptographic_usage_mask=[enums.CryptographicUsageMask.MAC_GENERATE, enums.CryptographicUsageMask.EXPORT],
)
app.activate(hmac_uid)
_, mac = app.mac(b"label", uid=hmac_uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
out["mac_matches_local"] = mac == hmac.new(bytes(app.get(hmac_uid).value), b"label", hashlib.sha256).digest()

# Locate: its keys, by name and by state.
name_attr = factory.create_attribute(enums.AttributeType.NAME, f"{prefix}-volume")
out["locate_name"] = app.locate(attributes=[name_attr])
out["locate_all_own"] = sorted(app.locate())

# Another appliance of the same tenant sees none of it and may touch none of it.
out["other_locate"] = other.locate()
out["other_get"] = refused(lambda: other.get(uid))
out["other_encrypt"] = refused(lambda: other.encrypt(b"x", uid=uid, cryptographic_parameters=gcm))
out["other_destroy"] = refused(lambda: other.destroy(uid))

# Destroy: an Active key is refused (revoke first); a never-activated key is destroyed at once; a revoked one
# follows the tenant's policy (the spec sets immediate-for-owner before this scenario).
out["destroy_active"] = refused(lambda: app.destroy(uid))
app.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid, revocation_message="volume retired")
out["state_revoked"] = state_of(app, uid)
app.destroy(uid)
out["state_destroyed"] = state_of(app, uid)
out["get_after_destroy"] = refused(lambda: app.get(uid))
app.destroy(registered)
out["registered_destroyed"] = state_of(app, registered)

app.close()
other.close()
print(json.dumps(out))
