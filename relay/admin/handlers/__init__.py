"""The admin API's handlers, one module per resource: each parses what its route's checks left
to it, calls one service method and shapes the JSON answer."""
