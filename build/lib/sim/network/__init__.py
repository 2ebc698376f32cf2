"""Street networks: sources (synthetic, osm, graphml, place, point), routing, places, world."""
