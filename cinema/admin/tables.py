"""Every table the admin shows: its menu, who may use it, how writes reach the services, what stays hidden.

The roles follow the API (API.md; docs/admin.md): a MODERATOR runs the catalog
and deletes comments, and may look at orders and carts; an ADMIN sees every
table. Tables holding money state are read-only rows for everyone: their
changes are actions (actions.py) calling the services.
"""

from __future__ import annotations

from piccolo.table import Table
from piccolo_api.crud.endpoints import OrderBy

from cinema.accounts import tables as accounts
from cinema.accounts.tables import AdminSession
from cinema.admin.access import Access
from cinema.admin.crud import TableSpec
from cinema.admin.doors import CommentsDoor, Door, EntityDoor, LinkDoor, MoviesDoor, UsersDoor
from cinema.catalog import tables as catalog
from cinema.catalog.schemas import EntityKind
from cinema.commerce import tables as commerce
from cinema.entitlements import tables as entitlements
from cinema.interactions import tables as interactions
from cinema.media import tables as media
from cinema.piccolo_app import TABLES


def _only(table: type[Table], *shown: str) -> tuple[str, ...]:
    """Every column of `table` but `shown`: for tables whose other columns are secrets (token hashes).

    Named by what may be shown, so a column added later stays hidden until someone decides otherwise.
    """
    return tuple(c._meta.name for c in table._meta.columns if c._meta.name not in shown)


_MONEY = (
    "are financial records: read-only. Their changes are the actions under Forms "
    "(approve or reject a refund, refund a payment, cancel an order)."
)


def _read_only(what: str) -> Door:
    return Door(reason=what)


def specs() -> list[TableSpec]:
    """The admin's tables: one `TableSpec` per table of the app (`TABLES`), and the admin sessions."""
    User, Movie, Comment = accounts.User, catalog.Movie, interactions.Comment
    Order, Payment, RefundRequest = commerce.Order, commerce.Payment, commerce.RefundRequest
    token_columns = ("id", "user", "created_at", "expires_at")
    catalog_entities = {
        catalog.Genre: EntityKind.GENRES,
        catalog.Star: EntityKind.STARS,
        catalog.Director: EntityKind.DIRECTORS,
        catalog.Certification: EntityKind.CERTIFICATIONS,
    }
    links = {
        catalog.MovieGenre: (EntityKind.GENRES, "genre"),
        catalog.MovieStar: (EntityKind.STARS, "star"),
        catalog.MovieDirector: (EntityKind.DIRECTORS, "director"),
    }
    found: list[TableSpec] = [
        # --- accounts (ADMIN) ---
        TableSpec(
            accounts.UserGroup,
            "Accounts",
            door=_read_only("The groups USER, MODERATOR and ADMIN are fixed; move users between them."),
        ),
        TableSpec(
            User,
            "Accounts",
            door=UsersDoor(),
            listed=("id", "email", "group", "active", "created_at", "last_login"),
            order_by=(OrderBy(User.email),),
        ),
        TableSpec(
            accounts.UserProfile,
            "Accounts",
            door=_read_only("Profiles are their owners' to edit (PATCH /accounts/me/profile)."),
        ),
        TableSpec(
            accounts.ActivationToken,
            "Accounts",
            door=_read_only("Activation tokens are issued and used up by the accounts service."),
            hidden=_only(accounts.ActivationToken, *token_columns),
        ),
        TableSpec(
            accounts.PasswordResetToken,
            "Accounts",
            door=_read_only("Reset tokens are issued and used up by the accounts service."),
            hidden=_only(accounts.PasswordResetToken, *token_columns),
        ),
        TableSpec(
            accounts.RefreshToken,
            "Accounts",
            door=_read_only(
                "Sessions start at sign-in and end with logout, a password change, deactivation "
                "or deletion of the account (edit the user)."
            ),
            hidden=_only(accounts.RefreshToken, *token_columns),
        ),
        TableSpec(
            accounts.LoginFailure,
            "Accounts",
            door=_read_only("Failed sign-ins are counted by the sign-in service (`cinema tokens purge`)."),
        ),
        TableSpec(
            AdminSession,
            "Accounts",
            door=_read_only("Admin sessions start at sign-in here and end with logout or expiry."),
            hidden=_only(AdminSession, "id", "user_id", "expiry_date", "max_expiry_date"),
        ),
        TableSpec(
            accounts.MailRequest,
            "Accounts",
            door=_read_only("Anonymous email requests are counted by the email throttle (docs/api.md)."),
        ),
        TableSpec(
            media.MediaAsset,
            "Catalog",
            moderator=Access.READ,
            door=_read_only(
                "Upload a poster or trailer on the sidebar's upload page; features and removals go"
                " through `cinema movies media` or POST/DELETE /movies/{id}/media (docs/media.md):"
                " the content is checked before an asset is ready."
            ),
            hidden=("upload_id",),
        ),
        TableSpec(
            media.WatchProgress,
            "Community",
            door=_read_only("Watch progress is written by the players (PUT /movies/{id}/progress)."),
        ),
        # --- catalog (MODERATOR) ---
        TableSpec(
            Movie,
            "Catalog",
            moderator=Access.WRITE,
            door=MoviesDoor(),
            listed=(
                "id",
                "name",
                "year",
                "price",
                "imdb",
                "votes",
                "certification",
                "popularity",
                "created_at",
            ),
            order_by=(OrderBy(Movie.name),),
        ),
        *(
            TableSpec(table, "Catalog", moderator=Access.WRITE, door=EntityDoor(kind=kind))
            for table, kind in catalog_entities.items()
        ),
        *(
            TableSpec(table, "Catalog", moderator=Access.WRITE, door=LinkDoor(kind=kind, entity=entity))
            for table, (kind, entity) in links.items()
        ),
        TableSpec(
            Comment,
            "Catalog",
            moderator=Access.WRITE,
            door=CommentsDoor(),
            listed=("id", "movie", "user", "text", "parent", "created_at"),
            order_by=(OrderBy(Comment.created_at, ascending=False),),
        ),
        # --- community (ADMIN, read-only: users make these rows, the movies' counters follow them) ---
        TableSpec(
            interactions.Reaction,
            "Community",
            door=_read_only("Reactions are their users' (PUT /movies/{id}/reaction); counters follow them."),
        ),
        TableSpec(
            interactions.Rating,
            "Community",
            door=_read_only("Ratings are their users' (PUT /movies/{id}/rating); averages follow them."),
        ),
        TableSpec(
            interactions.CommentLike,
            "Community",
            door=_read_only(
                "Comment likes are their users' (PUT /comments/{id}/like); counters follow them."
            ),
        ),
        TableSpec(
            interactions.Favorite,
            "Community",
            door=_read_only("Favorites are their users' (PUT /favorites/{movie_id}); counters follow them."),
        ),
        TableSpec(
            interactions.Notification,
            "Community",
            door=_read_only("Notifications are made by replies and likes, and read by their users."),
        ),
        # --- commerce (read-only rows; changes are actions) ---
        TableSpec(
            commerce.Cart,
            "Commerce",
            moderator=Access.READ,
            door=_read_only("Carts are their owners' (or /carts/{user_id} for moderators)."),
        ),
        TableSpec(
            commerce.CartItem,
            "Commerce",
            moderator=Access.READ,
            door=_read_only("Carts are their owners' (or /carts/{user_id} for moderators)."),
        ),
        TableSpec(
            Order,
            "Commerce",
            moderator=Access.READ,
            door=_read_only(f"Orders {_MONEY}"),
            order_by=(OrderBy(Order.created_at, ascending=False),),
        ),
        TableSpec(
            commerce.OrderItem, "Commerce", moderator=Access.READ, door=_read_only(f"Order items {_MONEY}")
        ),
        TableSpec(commerce.Purchase, "Commerce", door=_read_only(f"Purchases {_MONEY}")),
        TableSpec(
            Payment,
            "Commerce",
            door=_read_only(f"Payments {_MONEY}"),
            hidden=("client_secret",),
            order_by=(OrderBy(Payment.created_at, ascending=False),),
        ),
        TableSpec(commerce.PaymentItem, "Commerce", door=_read_only(f"Payment items {_MONEY}")),
        TableSpec(
            RefundRequest,
            "Commerce",
            door=_read_only(f"Refund requests {_MONEY}"),
            order_by=(OrderBy(RefundRequest.id, ascending=False),),
        ),
        TableSpec(commerce.PaymentEvent, "Commerce", door=_read_only(f"Payment events {_MONEY}")),
        # --- entitlements (ADMIN, read-only rows; grants and revocations are actions) ---
        TableSpec(
            entitlements.Entitlement,
            "Entitlements",
            door=_read_only(
                "Entitlements change through the Grant access and Revoke access forms, payments and "
                "refunds (docs/entitlements.md)."
            ),
            order_by=(OrderBy(entitlements.Entitlement.id, ascending=False),),
        ),
    ]
    return found


def unlisted() -> list[str]:
    """Tables of the app without a `TableSpec`: not in the admin at all (a test keeps this empty).

    A new table is left out until someone decides who may use it, how it is
    written and what it must never show.
    """
    covered = {spec.table for spec in specs()}
    return [table._meta.tablename for table in TABLES if table not in covered]
