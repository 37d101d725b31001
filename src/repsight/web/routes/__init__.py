"""The dashboard's routes, one router per part; each route declares who may call it (`routes.policy`)."""

from __future__ import annotations

from repsight.web.routes import admin, api, assets, auth, pages

__all__ = ["ROUTERS"]

ROUTERS = (assets.router, auth.router, pages.router, api.router, admin.router)
"""Every router of the dashboard, in the order the app includes them."""
