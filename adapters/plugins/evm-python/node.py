"""JSON-RPC over HTTP to the ledger's node, on 127.0.0.1 only.

Every request has a timeout, no longer than what is left of the deadline of the method the
plugin is answering (so the plugin answers `rpc` before the relayer gives up on it), and
every answer is read with a size bound.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

# One HTTP request at most this long, and never past the method's deadline.
REQUEST_TIMEOUT = 10.0
# Largest answer read from the node (a proof of 128 slots, a page of logs).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class NodeError(Exception):
    """The node failed, refused, or answered something unusable.

    `code` and `data` are those of the node's JSON-RPC error, when it sent one (a revert's
    data is how a refused call names the gateway's error); `too_large` marks an answer
    over the size bound, which the caller may avoid by asking for less.
    """

    def __init__(self, message, code=None, data=None, too_large=False):
        super().__init__(message)
        self.code = code
        self.data = data
        self.too_large = too_large


def check_loopback_url(url):
    """The URL when it is `http://127.0.0.1:<port>[/path]`, else ValueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"rpc {url!r}: only http:// to a local node is supported")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"rpc {url!r}: no credentials in the URL")
    host = parts.netloc.rsplit(":", 1)[0] if parts.port is not None else parts.netloc
    if parts.hostname != "127.0.0.1" or host != "127.0.0.1":
        raise ValueError(f"rpc {url!r} is not on 127.0.0.1: the plugin talks only to a node "
                         "the operator runs locally")
    return url


class Node:
    def __init__(self, url):
        self.url = check_loopback_url(url)
        # No proxy, whatever the environment says: the node is local.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._next_id = 1
        self.deadline = None

    def _timeout(self):
        if self.deadline is None:
            return REQUEST_TIMEOUT
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise NodeError("the method's deadline passed before the node answered")
        return min(REQUEST_TIMEOUT, left)

    def _post(self, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        req = urllib.request.Request(self.url, data=data,
                                     headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(req, timeout=self._timeout()) as resp:
                raw = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as e:
            # Some nodes answer a JSON-RPC error with an HTTP error status; read it anyway.
            try:
                raw = e.read(MAX_RESPONSE_BYTES + 1)
            except OSError:
                raise NodeError(f"HTTP {e.code} from the node") from None
            if not raw:
                raise NodeError(f"HTTP {e.code} from the node") from None
        except (OSError, urllib.error.URLError) as e:
            raise NodeError(f"the node is unreachable: {e}") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise NodeError(f"the node's answer is over {MAX_RESPONSE_BYTES} bytes",
                            too_large=True)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as e:
            raise NodeError(f"the node's answer is not JSON: {e}") from None

    @staticmethod
    def _result(method, answer):
        if not isinstance(answer, dict):
            raise NodeError(f"{method}: the node's answer is not a JSON-RPC response")
        err = answer.get("error")
        if err is not None:
            if not isinstance(err, dict):
                raise NodeError(f"{method}: {err}")
            raise NodeError(f"{method}: {err.get('message', '')}".rstrip(),
                            code=err.get("code"), data=err.get("data"))
        if "result" not in answer:
            raise NodeError(f"{method}: an answer with neither result nor error")
        return answer["result"]

    def call(self, method, params):
        rid = self._next_id
        self._next_id += 1
        answer = self._post({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        if isinstance(answer, dict) and answer.get("id") != rid:
            raise NodeError(f"{method}: the node answered another request")
        return self._result(method, answer)

    def batch(self, calls):
        """Several calls in one JSON-RPC batch; one result or NodeError per call, in order."""
        if not calls:
            return []
        first = self._next_id
        self._next_id += len(calls)
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
                for i, (m, p) in enumerate(calls)]
        answers = self._post(body)
        if not isinstance(answers, list):
            # A node that refuses batches answers one error object.
            err = self._result("batch", answers) if isinstance(answers, dict) else None
            raise NodeError(f"the node did not answer the batch: {err}")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        out = []
        for i, (m, _) in enumerate(calls):
            a = by_id.get(first + i)
            if a is None:
                out.append(NodeError(f"{m}: no answer in the batch"))
                continue
            try:
                out.append(self._result(m, a))
            except NodeError as e:
                out.append(e)
        return out
