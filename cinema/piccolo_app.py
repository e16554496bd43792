"""The single Piccolo app, and the composition root: every table, migrations in top-level
`piccolo_migrations/`, and the cross-domain hooks a lower layer declares and a higher one fills.

Every process imports this module before it reaches the database (Piccolo finds
its engine through `cinema.piccolo_conf`, whose app registry imports it), so a
hook registered here holds for the API, the CLI, the admin, the worker and the
tests alike (e.g. cinema/catalog/guards.py).
"""

from pathlib import Path

from piccolo.conf.apps import AppConfig
from piccolo.table import Table

import piccolo_migrations
from cinema.accounts import tables as accounts
from cinema.catalog import tables as catalog
from cinema.commerce import movie_guards
from cinema.commerce import tables as commerce
from cinema.entitlements import tables as entitlements
from cinema.interactions import tables as interactions
from cinema.media import movie_guards as media_movie_guards
from cinema.media import tables as media

TABLES: list[type[Table]] = [
    accounts.UserGroup,
    accounts.User,
    accounts.UserProfile,
    accounts.ActivationToken,
    accounts.PasswordResetToken,
    accounts.RefreshToken,
    accounts.LoginFailure,
    accounts.MailRequest,
    catalog.Certification,
    catalog.Genre,
    catalog.Star,
    catalog.Director,
    catalog.Movie,
    catalog.MovieGenre,
    catalog.MovieStar,
    catalog.MovieDirector,
    interactions.Reaction,
    interactions.Rating,
    interactions.Comment,
    interactions.CommentLike,
    interactions.Favorite,
    interactions.Notification,
    commerce.Cart,
    commerce.CartItem,
    commerce.Order,
    commerce.OrderItem,
    commerce.Purchase,
    commerce.Payment,
    commerce.PaymentItem,
    commerce.RefundRequest,
    commerce.PaymentEvent,
    entitlements.Entitlement,
    media.MediaAsset,
    media.WatchProgress,
]

#: What runs in a movie's deletion (cinema/catalog/guards.py), registered when each module
#: is imported, in this order: commerce's veto on a movie that was bought, ordered or put
#: in a cart, then media's deletion of the movie's stored objects after the commit.
MOVIE_DELETE_GUARDS = (movie_guards.refuse_sold_movie, media_movie_guards.delete_stored_media)

APP_CONFIG = AppConfig(
    app_name="cinema",
    migrations_folder_path=str(Path(piccolo_migrations.__file__).parent),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
