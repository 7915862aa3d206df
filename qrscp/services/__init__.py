"""Services between the network and the index/store: storage, query, retrieve, views."""
