"""Porcelain commands: name → ``module:attribute`` of a click command."""
_M = "artvcs.porcelain.commands."

PORCELAIN: dict[str, str] = {
    "init": _M + "init:init",
    "log": _M + "log:log",
    "ls": _M + "ls:ls",
    "versions": _M + "versions:versions",
    "show": _M + "show:show",
    "diff": _M + "diff:diff",
    "download": _M + "files:download",
    "checkout": _M + "files:checkout",
    "verify": _M + "files:verify",
    "alias": _M + "alias:alias",
    "describe": _M + "attributes:describe",
    "meta": _M + "attributes:meta",
    "ttl": _M + "attributes:ttl",
    "link": _M + "lifecycle:link",
    "unlink": _M + "lifecycle:unlink",
    "delete": _M + "lifecycle:delete",
    "history": _M + "history:history",
    "lineage": _M + "lineage:lineage",
    "gc": _M + "gc:gc",
    "track": _M + "track:track",
    "status": _M + "track:status",
    "hooks": _M + "track:hooks",
}
