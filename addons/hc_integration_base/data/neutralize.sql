-- A neutralized copy of a database must never call a production system with real credentials.
UPDATE hc_backend
   SET active = false,
       auth_password = NULL,
       api_key = NULL,
       bearer_token = NULL,
       oauth_client_secret = NULL,
       tls_client_key = NULL,
       breaker_state = 'closed',
       breaker_failure_count = 0;
