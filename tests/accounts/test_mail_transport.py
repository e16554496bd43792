"""Emails through a real SMTP server (aiosmtpd on loopback): the transport the worker delivers with."""

from __future__ import annotations

from tests.accounts.conftest import activation_token, register, reset_token
from tests.conftest import text_of


async def test_activation_and_reset_emails_arrive_over_smtp(client, smtp_sink, make_user, outbox) -> None:
    response = await register(client, "Mia@Example.com")
    assert response.status_code == 201

    [mail] = await smtp_sink.wait_for(1)

    assert mail["To"] == "mia@example.com"
    assert mail["From"] == "Cinema <no-reply@cinema.local>"
    assert mail["Subject"] == "Activate your Cinema account"
    token = activation_token(mail)
    assert f"http://cinema.test/accounts/activate?email=mia%40example.com&token={token}" in text_of(mail)
    html = mail.get_body(preferencelist=("html",))
    assert html is not None
    assert "http://cinema.test/accounts/activate?email=mia%40example.com&amp;token=" in str(
        html.get_content()
    )
    assert await outbox() == []  # with SMTP_HOST set, nothing goes to the file outbox

    activated = await client.get("/accounts/activate", params={"email": "mia@example.com", "token": token})
    assert activated.status_code == 200

    await client.post("/accounts/password/forgot", json={"email": "mia@example.com"})
    mails = await smtp_sink.wait_for(2)
    assert mails[1]["Subject"] == "Reset your Cinema password"
    assert len(reset_token(mails[1])) >= 40
