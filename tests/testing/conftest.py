"""The plugin's own tests drive outside test projects with pytest's `pytester`."""

pytest_plugins = ["pytester"]
