import pytest

from apps.accounts.models import User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/token/"
STRONG_PASSWORD = "plum-orbit-velvet-42"


def test_register_answers_201_with_the_user_and_no_password(api_client):
    response = api_client.post(
        REGISTER, {"email": "ann@example.com", "password": STRONG_PASSWORD, "first_name": "Ann", "last_name": "Lee"}
    )

    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "",
        "is_seller": False,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
        "preferences": {"newsletter": False, "language": "en"},
    }
    assert "password" not in response.content.decode()
    assert user.check_password(STRONG_PASSWORD)
    assert user.password != STRONG_PASSWORD


def test_register_without_names_defaults_them_to_blank(api_client):
    response = api_client.post(REGISTER, {"email": "bob@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 201
    assert (response.json()["first_name"], response.json()["last_name"]) == ("", "")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt-pw", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("8302957461029", "This password is entirely numeric."),
        ("lovelace2024", "The password is too similar to the email."),
    ],
    ids=["too-short", "common", "numeric", "similar-to-email"],
)
def test_register_refuses_a_weak_password_on_the_password_field(api_client, password, message):
    response = api_client.post(REGISTER, {"email": "ada.lovelace@example.com", "password": password})

    assert response.status_code == 400
    assert set(response.json()) == {"password"}
    assert message in response.json()["password"]
    assert not User.objects.exists()


def test_register_refuses_an_email_taken_in_another_letter_case(api_client):
    UserFactory(email="ann@example.com")

    response = api_client.post(REGISTER, {"email": "ANN@Example.COM", "password": STRONG_PASSWORD})

    assert response.status_code == 400
    assert response.json() == {"email": ["An account with this email already exists."]}
    assert User.objects.count() == 1
    assert not User.objects.get().check_password(STRONG_PASSWORD)


def test_register_stores_the_email_lower_cased_and_login_accepts_any_case(api_client):
    response = api_client.post(REGISTER, {"email": "Ann.Lee@Example.COM", "password": STRONG_PASSWORD})

    assert response.status_code == 201
    assert response.json()["email"] == "ann.lee@example.com"
    assert User.objects.get().email == "ann.lee@example.com"
    for spelling in ("ann.lee@example.com", "ANN.LEE@EXAMPLE.COM", "Ann.Lee@example.com"):
        login = api_client.post(LOGIN, {"email": spelling, "password": STRONG_PASSWORD})
        assert login.status_code == 200, spelling


def test_register_ignores_role_fields_sent_by_the_client(api_client):
    response = api_client.post(
        REGISTER,
        {
            "email": "eve@example.com",
            "password": STRONG_PASSWORD,
            "is_staff": True,
            "is_superuser": True,
            "is_seller": True,
        },
    )

    assert response.status_code == 201
    user = User.objects.get()
    assert (user.is_staff, user.is_superuser, user.is_seller, user.is_active) == (False, False, False, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": STRONG_PASSWORD}, "email"),
        ({"email": "not-an-email", "password": STRONG_PASSWORD}, "email"),
        ({"email": "ann@example.com"}, "password"),
    ],
)
def test_register_refuses_missing_or_malformed_fields(api_client, body, field):
    response = api_client.post(REGISTER, body)

    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_factory_users_log_in_with_the_default_password(api_client):
    user = UserFactory()

    response = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
