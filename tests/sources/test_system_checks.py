from sources.system_checks import check_business_timezone, check_task_queue


def test_it_refuses_a_retry_not_longer_than_the_timeout(settings):
    settings.Q_CLUSTER = {"timeout": 600, "retry": 600}
    [error] = check_task_queue()
    assert error.id == "sources.E001"
    assert "retry (600s) must be longer than its timeout (600s)" in error.msg
    assert "Q_RETRY" in error.hint


def test_it_accepts_a_retry_longer_than_the_timeout(settings):
    settings.Q_CLUSTER = {"timeout": 600, "retry": 660}
    assert check_task_queue() == []


def test_the_shipped_queue_settings_pass():
    assert check_task_queue() == []


def test_it_refuses_an_unknown_business_timezone(settings):
    settings.BUSINESS_TIMEZONE = "Mars/Olympus"
    [error] = check_business_timezone()
    assert error.id == "sources.E002" and "Mars/Olympus" in error.msg


def test_it_accepts_a_real_business_timezone(settings):
    settings.BUSINESS_TIMEZONE = "America/New_York"
    assert check_business_timezone() == []
