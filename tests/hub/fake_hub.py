"""A local stand-in for the Hugging Face Hub: the HTTP endpoints that ``huggingface_hub`` uses to create a repository,
commit files (inline, "regular" upload mode), list a revision's tree and download files. In memory, 127.0.0.1 only."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import threading
import urllib.parse

import yaml


class _Repo:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.sha = hashlib.sha1(b"empty").hexdigest()


class FakeHub:
    """``with FakeHub() as hub:`` serves on ``hub.endpoint`` (the ``HF_ENDPOINT``); ``hub.requests`` logs calls."""

    def __init__(self) -> None:
        self.repos: dict[str, _Repo] = {}
        self.requests: list[tuple[str, str, dict]] = []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._dispatch(self, "HEAD")

            def do_GET(self):
                hub._dispatch(self, "GET")

            def do_POST(self):
                hub._dispatch(self, "POST")

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # ---- routing -----------------------------------------------------------------------------------------------

    def _dispatch(self, handler, method: str) -> None:
        url = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(url.path)
        self.requests.append((method, path, dict(handler.headers)))
        routes = [
            ("POST", r"/api/repos/create", self._create_repo),
            ("POST", r"/api/validate-yaml", self._validate_yaml),
            ("POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>[^/]+)", self._preupload),
            ("POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>[^/]+)", self._commit),
            ("GET", r"/api/models/(?P<repo>[^/]+/[^/]+)/revision/(?P<rev>[^/]+)", self._info),
            ("GET", r"/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<sub>.*))?", self._tree),
            (None, r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", self._resolve),
        ]
        for route_method, pattern, function in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method in (None, method):
                body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)) if method == "POST" else b""
                return function(handler, method, body, **match.groupdict())
        self._send(handler, 404, {"error": f"no route for {method} {path}"})

    @staticmethod
    def _send(handler, status: int, payload=None, headers: dict = None, raw: bytes = None, head: bool = False) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if not head:
            handler.wfile.write(data)

    def _repo(self, handler, repo: str):
        if repo not in self.repos:
            self._send(handler, 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            return None
        return self.repos[repo]

    # ---- endpoints -----------------------------------------------------------------------------------------------

    def _create_repo(self, handler, method, body):
        request = json.loads(body)
        repo_id = f"{request['organization']}/{request['name']}" if request.get("organization") else request["name"]
        self.repos.setdefault(repo_id, _Repo())
        self._send(handler, 200, {"url": f"{self.endpoint}/{repo_id}", "name": repo_id})

    def _validate_yaml(self, handler, method, body):
        """The model card's front matter must be a YAML mapping (the real Hub also checks its schema)."""
        content = json.loads(body)["content"]
        try:
            valid = isinstance(yaml.safe_load(content.split("---")[1]), dict)
        except (yaml.YAMLError, IndexError):
            valid = False
        if valid:
            self._send(handler, 200, {"errors": [], "warnings": []})
        else:
            self._send(handler, 400, {"errors": [{"message": "invalid YAML front matter"}]})

    def _preupload(self, handler, method, body, repo, rev):
        files = json.loads(body)["files"]
        self._send(handler, 200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                            for f in files]})

    def _commit(self, handler, method, body, repo, rev):
        state = self._repo(handler, repo)
        if state is None:
            return
        for line in body.splitlines():
            item = json.loads(line)
            if item["key"] == "file":
                value = item["value"]
                state.files[value["path"]] = base64.b64decode(value["content"])
        digest = hashlib.sha1(state.sha.encode())
        for name in sorted(state.files):
            digest.update(name.encode() + state.files[name])
        state.sha = digest.hexdigest()
        self._send(handler, 200, {"commitUrl": f"{self.endpoint}/{repo}/commit/{state.sha}", "commitOid": state.sha,
                                  "pullRequestUrl": None})

    def _info(self, handler, method, body, repo, rev):
        state = self._repo(handler, repo)
        if state is not None:
            self._send(handler, 200, {"id": repo, "modelId": repo, "sha": state.sha, "private": False,
                                      "siblings": [{"rfilename": name} for name in sorted(state.files)]})

    def _tree(self, handler, method, body, repo, rev, sub=None):
        state = self._repo(handler, repo)
        if state is not None:
            entries = [{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                       for name, data in sorted(state.files.items()) if not sub or name.startswith(sub + "/")]
            self._send(handler, 200, entries)

    def _resolve(self, handler, method, body, repo, rev, file):
        state = self._repo(handler, repo)
        if state is None:
            return
        if file not in state.files:
            self._send(handler, 404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound",
                                                                    "X-Repo-Commit": state.sha}, head=method == "HEAD")
            return
        data = state.files[file]
        headers = {"X-Repo-Commit": state.sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}
        self._send(handler, 200, headers=headers, raw=data, head=method == "HEAD")
