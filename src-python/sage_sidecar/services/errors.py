"""Domain errors. Routers translate them to HTTP (see app.py); services never import FastAPI."""


class DomainError(Exception):
    status_code = 400


class NotFoundError(DomainError):
    status_code = 404

    def __init__(self, what: str, item_id: str) -> None:
        super().__init__(f"{what} {item_id!r} not found")


class ConflictError(DomainError):
    status_code = 409


class InvalidError(DomainError):
    status_code = 422
