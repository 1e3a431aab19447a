# OpenAlgo's Flask app (stand-in for the fixture)
