print("redkeep")
