from offline import runner
def test_pollute():
    runner.run("dev", {}, preview=True)
