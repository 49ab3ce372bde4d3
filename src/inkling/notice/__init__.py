"""The customer-facing notice (``/p/{token}``): what a message tracks, and an opt-out."""

from inkling.notice.page import NoticeOptions, notice_router

__all__ = ["NoticeOptions", "notice_router"]
