// Generated from docs/openapi.json by scripts/embed_openapi.py: edit the JSON, then run the script.
// A test checks that this text equals the file byte for byte and covers every route.

enum OpenAPIDocument {
    static let text = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "cwauth REST API",
        "version": "1",
        "description": "Users, roles, topic permissions and the client registry of a Mosquitto broker with the cwauth plugin, over the same SQLite file as the `cwauth` CLI. Admin routes accept HTTP Basic, a bearer token from POST /api/auth/login, or the browser session cookie (then state-changing requests need the X-CSRF-Token header). The caller needs an http-context permission whose resource (a topic filter) matches the request path: GET/HEAD need read, other methods write. Request bodies are JSON (Content-Type application/json, else 415). Errors are JSON objects {\"error\": \"message\"}; a 400 names the offending field. Times are ISO-8601 UTC."
      },
      "servers": [
        {
          "url": "http://127.0.0.1:8080"
        }
      ],
      "security": [
        {
          "basic": []
        },
        {
          "bearer": []
        },
        {
          "session": []
        }
      ],
      "tags": [
        {
          "name": "auth"
        },
        {
          "name": "users"
        },
        {
          "name": "roles"
        },
        {
          "name": "client-registry"
        },
        {
          "name": "audit"
        },
        {
          "name": "meta"
        }
      ],
      "paths": {
        "/api/auth/login": {
          "post": {
            "summary": "Log in: a bearer token, or a browser session cookie",
            "tags": [
              "auth"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/LoginRequest"
                  },
                  "example": {
                    "username": "admin",
                    "password": "admin-secret",
                    "session": false
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Logged in. With \"session\": true the token is in the HttpOnly cookie cwauth_session and the body carries the CSRF token.",
                "content": {
                  "application/json": {
                    "schema": {
                      "oneOf": [
                        {
                          "$ref": "#/components/schemas/Token"
                        },
                        {
                          "$ref": "#/components/schemas/Session"
                        }
                      ]
                    }
                  }
                },
                "headers": {
                  "Set-Cookie": {
                    "description": "cwauth_session=...; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800 (session logins only)",
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "description": "Valid credentials, but the user has no http permission at all.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "429": {
                "$ref": "#/components/responses/TooManyRequests"
              }
            },
            "security": []
          }
        },
        "/api/auth/logout": {
          "post": {
            "summary": "Log out: revoke the token or session and clear the cookie",
            "tags": [
              "auth"
            ],
            "responses": {
              "204": {
                "description": "Logged out (also when there was nothing to revoke)."
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            },
            "security": []
          }
        },
        "/api/auth/session": {
          "get": {
            "summary": "The browser session behind the cookie, with its CSRF token",
            "tags": [
              "auth"
            ],
            "responses": {
              "200": {
                "description": "Session.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Session"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              }
            },
            "security": []
          }
        },
        "/api/users": {
          "get": {
            "summary": "List users",
            "tags": [
              "users"
            ],
            "responses": {
              "200": {
                "description": "Users, by username.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/User"
                      }
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          },
          "post": {
            "summary": "Create a user",
            "tags": [
              "users"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/NewUser"
                  },
                  "example": {
                    "username": "sensor-17",
                    "password": "s3cret-pass",
                    "roles": [
                      "sensor-writer"
                    ]
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Created.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/users/{name}": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Username (percent-encoded)."
            }
          ],
          "get": {
            "summary": "Show a user",
            "tags": [
              "users"
            ],
            "responses": {
              "200": {
                "description": "The user.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              }
            }
          },
          "delete": {
            "summary": "Delete a user (the broker kicks its clients)",
            "tags": [
              "users"
            ],
            "responses": {
              "204": {
                "description": "Deleted."
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "Refused because it would leave no admin: the message names the last admin (an enabled user with a role granting http /api/# readWrite).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            }
          }
        },
        "/api/users/{name}/password": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Username (percent-encoded)."
            }
          ],
          "put": {
            "summary": "Set a user's password",
            "tags": [
              "users"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": [
                      "password"
                    ],
                    "properties": {
                      "password": {
                        "type": "string",
                        "minLength": 5
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "204": {
                "description": "Changed."
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/users/{name}/enabled": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Username (percent-encoded)."
            }
          ],
          "put": {
            "summary": "Enable or disable a user (disabling kicks its clients)",
            "tags": [
              "users"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": [
                      "enabled"
                    ],
                    "properties": {
                      "enabled": {
                        "type": "boolean"
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "The user.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "Refused because it would leave no admin: the message names the last admin (an enabled user with a role granting http /api/# readWrite).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/users/{name}/publish-prefix": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Username (percent-encoded)."
            }
          ],
          "put": {
            "summary": "Set or clear (null) the MQTT publish prefix",
            "tags": [
              "users"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": [
                      "publishPrefix"
                    ],
                    "properties": {
                      "publishPrefix": {
                        "type": "string",
                        "nullable": true
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "The user.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/users/{name}/roles/{role}": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Username (percent-encoded)."
            },
            {
              "name": "role",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Role name (percent-encoded)."
            }
          ],
          "put": {
            "summary": "Give a user a role (idempotent)",
            "tags": [
              "users"
            ],
            "responses": {
              "200": {
                "description": "The user.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              }
            }
          },
          "delete": {
            "summary": "Take a role from a user",
            "tags": [
              "users"
            ],
            "responses": {
              "200": {
                "description": "The user.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "Refused because it would leave no admin: the message names the last admin (an enabled user with a role granting http /api/# readWrite).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            }
          }
        },
        "/api/roles": {
          "get": {
            "summary": "List roles",
            "tags": [
              "roles"
            ],
            "responses": {
              "200": {
                "description": "Roles, by name.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Role"
                      }
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          },
          "post": {
            "summary": "Create a role, optionally with permissions (atomic)",
            "tags": [
              "roles"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": [
                      "name"
                    ],
                    "properties": {
                      "name": {
                        "type": "string"
                      },
                      "permissions": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/Permission"
                        }
                      }
                    }
                  },
                  "example": {
                    "name": "sensor-writer",
                    "permissions": [
                      {
                        "resource": "factory/+/telemetry/#",
                        "operation": "write",
                        "context": "mqtt"
                      }
                    ]
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Created.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Role"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "409": {
                "$ref": "#/components/responses/Conflict"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/roles/{name}": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Role name (percent-encoded)."
            }
          ],
          "get": {
            "summary": "Show a role",
            "tags": [
              "roles"
            ],
            "responses": {
              "200": {
                "description": "The role.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Role"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              }
            }
          },
          "delete": {
            "summary": "Delete a role (its users lose it; the broker kicks them)",
            "tags": [
              "roles"
            ],
            "responses": {
              "204": {
                "description": "Deleted."
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "Refused because it would leave no admin: the message names the last admin (an enabled user with a role granting http /api/# readWrite).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            }
          }
        },
        "/api/roles/{name}/permissions": {
          "parameters": [
            {
              "name": "name",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "Role name (percent-encoded)."
            }
          ],
          "post": {
            "summary": "Grant a permission (or change the operation of the one on the same resource and context)",
            "tags": [
              "roles"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/Permission"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "The role.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Role"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "Refused because it would leave no admin: the message names the last admin (an enabled user with a role granting http /api/# readWrite).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          },
          "delete": {
            "summary": "Revoke a permission",
            "tags": [
              "roles"
            ],
            "parameters": [
              {
                "name": "resource",
                "in": "query",
                "required": true,
                "schema": {
                  "type": "string"
                },
                "description": "The permission's topic filter (percent-encode + and #)."
              },
              {
                "name": "context",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "string",
                  "enum": [
                    "mqtt",
                    "http"
                  ],
                  "default": "mqtt"
                }
              }
            ],
            "responses": {
              "200": {
                "description": "The role.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Role"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "Refused because it would leave no admin: the message names the last admin (an enabled user with a role granting http /api/# readWrite).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            }
          }
        },
        "/api/client-registry": {
          "get": {
            "summary": "Registration window and pending requests",
            "tags": [
              "client-registry"
            ],
            "responses": {
              "200": {
                "description": "Status.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/RegistryStatus"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          }
        },
        "/api/client-registry/unlock": {
          "post": {
            "summary": "Open the registration window (it closes by itself)",
            "tags": [
              "client-registry"
            ],
            "requestBody": {
              "required": false,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                      "minutes": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 60,
                        "default": 5
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Status.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/RegistryStatus"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/client-registry/lock": {
          "post": {
            "summary": "Close the registration window now",
            "tags": [
              "client-registry"
            ],
            "responses": {
              "200": {
                "description": "Status.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/RegistryStatus"
                    }
                  }
                }
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/client-registry/pending/{username}/allow": {
          "parameters": [
            {
              "name": "username",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "The pending request's username (percent-encoded)."
            }
          ],
          "post": {
            "summary": "Admit a pending device: create the user with the password it registered with",
            "tags": [
              "client-registry"
            ],
            "requestBody": {
              "required": false,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                      "roles": {
                        "type": "array",
                        "items": {
                          "type": "string"
                        },
                        "description": "Roles to grant. The device's requestedRoles are a request only: nothing is granted unless listed here."
                      },
                      "force": {
                        "type": "boolean",
                        "default": false
                      },
                      "confirmPrivileged": {
                        "type": "boolean",
                        "default": false,
                        "description": "Required (true) to grant a privileged role: one with any http permission, or with a catch-all permission (a resource made only of wildcards and ending in #: #, +/#, +/+/#, …). Without it such a grant is refused with 409."
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "The new user (origin registry).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/User"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "409": {
                "description": "The request is in conflict (another password was tried) and force is not set, the user exists, or a listed role is privileged (http permissions or a catch-all # permission; the message names them) and confirmPrivileged is not true.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            },
            "description": "Creates the user with the recorded password hash and exactly the roles listed. Granting a privileged role to a self-registered device needs \"confirmPrivileged\": true."
          }
        },
        "/api/client-registry/pending/{username}/deny": {
          "parameters": [
            {
              "name": "username",
              "in": "path",
              "required": true,
              "schema": {
                "type": "string"
              },
              "description": "The pending request's username (percent-encoded)."
            }
          ],
          "post": {
            "summary": "Drop a pending request; with block, never record that username again",
            "tags": [
              "client-registry"
            ],
            "requestBody": {
              "required": false,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                      "block": {
                        "type": "boolean",
                        "default": false
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "204": {
                "description": "Denied."
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              },
              "404": {
                "$ref": "#/components/responses/NotFound"
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              }
            }
          }
        },
        "/api/client-registry/register": {
          "post": {
            "summary": "Explicit registration (the device's door, no admin credentials); repeat the same request to poll",
            "tags": [
              "client-registry"
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/RegisterRequest"
                  },
                  "example": {
                    "username": "sensor-42",
                    "password": "device-secret",
                    "roles": [
                      "sensor-writer"
                    ],
                    "context": "hall 3, line 2"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Allowed: the user exists and the password is right.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Registered"
                    }
                  }
                }
              },
              "202": {
                "description": "Recorded, or still pending.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "status": {
                          "type": "string",
                          "enum": [
                            "pending"
                          ]
                        }
                      }
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "403": {
                "description": "The username was denied with block, or the user is disabled.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "409": {
                "description": "A pending request for this username has a different password (the request is flagged as conflict), or the username is taken.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "415": {
                "$ref": "#/components/responses/UnsupportedMediaType"
              },
              "423": {
                "description": "The registration window is locked.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "429": {
                "$ref": "#/components/responses/TooManyRequests"
              },
              "503": {
                "description": "Too many pending requests (the cap); retry later.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            },
            "security": []
          }
        },
        "/api/audit": {
          "get": {
            "summary": "The audit log, newest first",
            "tags": [
              "audit"
            ],
            "parameters": [
              {
                "name": "limit",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 500,
                  "default": 50
                }
              },
              {
                "name": "before",
                "in": "query",
                "required": false,
                "schema": {
                  "type": "integer",
                  "minimum": 1
                },
                "description": "Only entries with a smaller id (the previous page's next)."
              }
            ],
            "responses": {
              "200": {
                "description": "A page of entries.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/AuditPage"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/BadRequest"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Forbidden"
              }
            }
          }
        },
        "/api/openapi.json": {
          "get": {
            "summary": "This document",
            "tags": [
              "meta"
            ],
            "responses": {
              "200": {
                "description": "OpenAPI 3 document.",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  }
                }
              }
            },
            "security": []
          }
        }
      },
      "components": {
        "securitySchemes": {
          "basic": {
            "type": "http",
            "scheme": "basic"
          },
          "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "Token from POST /api/auth/login."
          },
          "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "cwauth_session",
            "description": "Browser session from POST /api/auth/login with session: true. Non-GET/HEAD requests must send X-CSRF-Token."
          }
        },
        "responses": {
          "BadRequest": {
            "description": "Invalid input; the message names the field. Bodies are strict JSON: a key twice in one object (at any depth) or nesting deeper than 64 levels is refused, naming the key or where.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "UnsupportedMediaType": {
            "description": "The request has a body that is not declared as JSON: send it with Content-Type application/json (charset=utf-8 allowed).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Unauthorized": {
            "description": "No valid credentials.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Forbidden": {
            "description": "Missing http permission for this path, or missing/invalid CSRF token with a session cookie. Changing who holds a role or what it grants also needs http write on the role's own resource /api/roles/{role}; only an admin gives, takes away or changes a role that makes its holders admins; a non-admin hands out only http access it holds itself and changes no account with more http access than its own. The message names what is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "NotFound": {
            "description": "No such user, role, permission or pending request.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "Conflict": {
            "description": "Already exists.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "TooManyRequests": {
            "description": "Too many failed password checks for this username or address (5 in 5 minutes), or registration attempts too fast.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait.",
                "schema": {
                  "type": "integer"
                }
              }
            }
          }
        },
        "schemas": {
          "Error": {
            "type": "object",
            "required": [
              "error"
            ],
            "properties": {
              "error": {
                "type": "string"
              }
            }
          },
          "LoginRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "username",
              "password"
            ],
            "properties": {
              "username": {
                "type": "string"
              },
              "password": {
                "type": "string"
              },
              "session": {
                "type": "boolean",
                "default": false
              }
            }
          },
          "Token": {
            "type": "object",
            "required": [
              "username",
              "token",
              "expiresAt"
            ],
            "properties": {
              "username": {
                "type": "string"
              },
              "token": {
                "type": "string"
              },
              "expiresAt": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              }
            }
          },
          "Session": {
            "type": "object",
            "required": [
              "username",
              "csrfToken",
              "expiresAt"
            ],
            "properties": {
              "username": {
                "type": "string"
              },
              "csrfToken": {
                "type": "string"
              },
              "expiresAt": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              }
            }
          },
          "User": {
            "type": "object",
            "required": [
              "username",
              "enabled",
              "roles",
              "publishPrefix",
              "origin",
              "createdAt",
              "updatedAt"
            ],
            "properties": {
              "username": {
                "type": "string"
              },
              "enabled": {
                "type": "boolean"
              },
              "roles": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "publishPrefix": {
                "type": "string",
                "nullable": true
              },
              "origin": {
                "type": "string",
                "enum": [
                  "manual",
                  "registry",
                  "apply"
                ]
              },
              "createdAt": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              },
              "updatedAt": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              }
            }
          },
          "NewUser": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "username",
              "password"
            ],
            "properties": {
              "username": {
                "type": "string",
                "minLength": 3,
                "maxLength": 256
              },
              "password": {
                "type": "string",
                "minLength": 5
              },
              "roles": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "enabled": {
                "type": "boolean",
                "default": true
              },
              "publishPrefix": {
                "type": "string",
                "nullable": true
              }
            }
          },
          "Permission": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "resource",
              "operation"
            ],
            "properties": {
              "resource": {
                "type": "string",
                "description": "MQTT topic filter (+, #, whole-level %u and %c); for http, matched against the request path."
              },
              "operation": {
                "type": "string",
                "enum": [
                  "read",
                  "write",
                  "readWrite"
                ]
              },
              "context": {
                "type": "string",
                "enum": [
                  "mqtt",
                  "http"
                ],
                "default": "mqtt"
              }
            }
          },
          "Role": {
            "type": "object",
            "required": [
              "name",
              "permissions"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "permissions": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Permission"
                }
              }
            }
          },
          "Pending": {
            "type": "object",
            "required": [
              "username",
              "clientId",
              "address",
              "firstSeen",
              "lastSeen",
              "attempts",
              "conflict",
              "conflictAttempts",
              "source",
              "requestedRoles",
              "requestedContext"
            ],
            "properties": {
              "username": {
                "type": "string"
              },
              "clientId": {
                "type": "string"
              },
              "address": {
                "type": "string"
              },
              "firstSeen": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              },
              "lastSeen": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              },
              "attempts": {
                "type": "integer"
              },
              "conflict": {
                "type": "boolean"
              },
              "conflictAttempts": {
                "type": "integer"
              },
              "source": {
                "type": "string",
                "enum": [
                  "mqtt",
                  "http"
                ]
              },
              "requestedRoles": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "description": "Asked for by the device; never granted without an admin."
              },
              "requestedContext": {
                "type": "string",
                "nullable": true,
                "description": "Free text the device sent with its registration."
              }
            }
          },
          "RegistryStatus": {
            "type": "object",
            "required": [
              "open",
              "openUntil",
              "secondsLeft",
              "pending"
            ],
            "properties": {
              "open": {
                "type": "boolean"
              },
              "openUntil": {
                "type": "string",
                "format": "date-time",
                "nullable": true
              },
              "secondsLeft": {
                "type": "integer"
              },
              "pending": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Pending"
                }
              }
            }
          },
          "RegisterRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "username",
              "password"
            ],
            "properties": {
              "username": {
                "type": "string",
                "minLength": 3,
                "maxLength": 256
              },
              "password": {
                "type": "string",
                "minLength": 5
              },
              "roles": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "maxItems": 32
              },
              "context": {
                "type": "string",
                "maxLength": 256
              }
            }
          },
          "Registered": {
            "type": "object",
            "required": [
              "username",
              "roles"
            ],
            "properties": {
              "username": {
                "type": "string"
              },
              "roles": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          },
          "AuditEntry": {
            "type": "object",
            "required": [
              "id",
              "at",
              "actor",
              "action",
              "target",
              "detail"
            ],
            "properties": {
              "id": {
                "type": "integer"
              },
              "at": {
                "type": "string",
                "format": "date-time",
                "example": "2026-11-22T22:41:00Z"
              },
              "actor": {
                "type": "string",
                "example": "http:admin"
              },
              "action": {
                "type": "string"
              },
              "target": {
                "type": "string"
              },
              "detail": {
                "type": "string"
              }
            }
          },
          "AuditPage": {
            "type": "object",
            "required": [
              "entries",
              "next"
            ],
            "properties": {
              "entries": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/AuditEntry"
                }
              },
              "next": {
                "type": "integer",
                "nullable": true,
                "description": "Pass as before= for the next page; null on the last page."
              }
            }
          }
        }
      }
    }

    """#
}
