"""The dependencies routers share, declared once: who may call, and how lists page.

`Viewer`, `Agent` and `Admin` act in the account named by `x-account-id` (domain routes such
as `/wa`); `PathViewer` and `PathAdmin` in the one named by `/accounts/{accountId}/...`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from ticaret.core.auth import AccountContext, account_context, path_account
from ticaret.core.envelope import PageParams
from ticaret.models import Role

Viewer = Annotated[AccountContext, Depends(account_context(Role.viewer))]
Agent = Annotated[AccountContext, Depends(account_context(Role.agent))]
Admin = Annotated[AccountContext, Depends(account_context(Role.admin))]

PathViewer = Annotated[AccountContext, Depends(path_account(Role.viewer))]
PathAdmin = Annotated[AccountContext, Depends(path_account(Role.admin))]

Paging = Annotated[PageParams, Query()]
