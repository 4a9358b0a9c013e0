"""What each ``/v2/`` handler receives: the request, the caller, and the parts it calls."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from layerport.auth.principals import Principal
from layerport.service import Service
from layerport.service.registry import Registry


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated registry request, routed."""

    request: web.Request
    caller: Principal
    name: str
    ref: str
    service: Service
    registry: Registry

    def location(self, *parts: str) -> str:
        """A ``/v2/<name>/...`` path for ``Location`` headers."""
        return "/".join(("/v2", self.name, *parts))
