"""What the PyKMIP scripts beside this file share: connecting as a client certificate, reading a
refusal's KMIP result reason, and reading a key's State."""
import os

from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions


def connector(host, port, ca):
    """connect(cert, key, version=None): an open ProxyKmipClient to host:port, trusting ca."""

    def connect(cert, key, version=None):
        c = pie_client.ProxyKmipClient(hostname=host, port=port, cert=cert, key=key, ca=ca, config_file=os.devnull, kmip_version=version)
        c.open()
        return c

    return connect


def refused(fn):
    """Runs fn; answers the KMIP result reason name when the server refused it, or None."""
    try:
        fn()
        return None
    except pie_exceptions.KmipOperationFailure as e:
        return e.reason.name
    except Exception as e:  # noqa: BLE001 (connection closed, handshake refused, a payload-level OperationFailure)
        if hasattr(e, "reason") and hasattr(e.reason, "name"):
            return e.reason.name
        return "error:" + type(e).__name__ + ": " + str(e)[:300]


def state_of(c, uid):
    _, attrs = c.get_attributes(uid, ["State"])
    return attrs[0].attribute_value.value.name
