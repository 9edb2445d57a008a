"""Voice notes: playing them to citizens and recording them from CSO chats."""
