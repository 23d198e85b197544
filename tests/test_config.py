import pytest

from functions.config import ConfigError, Settings, load_accounts, parse_accounts


def _doc(**account):
    base = {"platform": "x", "account": "AllianceCME", "secret": "socialaudit/x"}
    base.update(account)
    return {"organization": "Alliance", "recipients": ["comms@example.org"], "accounts": [base]}


def test_accounts_parse_with_defaults():
    accounts = parse_accounts(_doc(staff=["@Lena_Ops"]))
    (account,) = accounts.accounts
    assert account.key == "x-AllianceCME"
    assert account.staff == ("lena_ops",)
    assert accounts.recipients == ("comms@example.org",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"platform": "myspace"}, r"accounts\[0\]\.platform"),
        ({"account": ""}, r"accounts\[0\]\.account"),
        ({"key": "../../etc"}, r"accounts\[0\]\.key"),
        ({"recipients": ["not-an-address"]}, r"accounts\[0\]\.recipients"),
        ({"base_url": "${SOCIALAUDIT_SURELY_UNSET_VAR}/x"}, "SOCIALAUDIT_SURELY_UNSET_VAR is not set"),
    ],
)
def test_bad_account_is_named(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_accounts(_doc(**change))


def test_duplicate_keys_are_rejected():
    doc = _doc()
    doc["accounts"].append(dict(doc["accounts"][0]))
    with pytest.raises(ConfigError, match="duplicate account key"):
        parse_accounts(doc)


def test_base_url_expands_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_URL", "http://127.0.0.1:9999")
    (account,) = parse_accounts(_doc(base_url="${SANDBOX_URL}/x")).accounts
    assert account.base_url == "http://127.0.0.1:9999/x"


def test_select_unknown_account_is_a_clear_error():
    accounts = parse_accounts(_doc())
    assert [a.key for a in accounts.select(None)] == ["x-AllianceCME"]
    with pytest.raises(ConfigError, match="unknown account.*nope"):
        accounts.select(["nope"])


def test_accounts_file_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="accounts.yaml: not valid YAML"):
        load_accounts(path)
    with pytest.raises(ConfigError, match="cannot read accounts file"):
        load_accounts(tmp_path / "missing.yaml")


def test_settings_from_env_validate():
    settings = Settings.from_env({"SOCIALAUDIT_BUCKET": "b", "SOCIALAUDIT_RECIPIENTS": "a@x.org, b@y.org"})
    assert settings.recipients == ("a@x.org", "b@y.org")
    with pytest.raises(ConfigError, match="SOCIALAUDIT_BUCKET"):
        Settings.from_env({})
    with pytest.raises(ConfigError, match="SOCIALAUDIT_SENDER"):
        Settings.from_env({"SOCIALAUDIT_BUCKET": "b", "SOCIALAUDIT_SENDER": "x\r\nBcc: evil@x.org"})
    with pytest.raises(ConfigError, match="numeric"):
        Settings.from_env({"SOCIALAUDIT_BUCKET": "b", "SOCIALAUDIT_MAX_REQUESTS": "lots"})
