base = ElixirScope.Agent.Fixtures.base_dir()
System.at_exit(fn _ -> File.rm_rf(base) end)
ExUnit.start()
