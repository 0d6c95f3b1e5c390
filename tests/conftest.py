pytest_plugins = ["tests.fixtures_redis"]
