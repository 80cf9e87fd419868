-- A neutralized copy of a database must never call a production system, and holds no secret.
-- Every stored column of the integration's models restricted to Settings administrators (the
-- backends' secrets, the unredacted raw payloads) is wiped. The list is written by the models
-- themselves at each install or update (hc.backend.init, from the fields' groups), so a secret
-- declared later is wiped without editing this file.
DO $$
DECLARE
    secret text;
BEGIN
    FOR secret IN
        SELECT unnest(string_to_array(value, ','))
          FROM ir_config_parameter WHERE key = 'hc_integration_base.secret_columns'
    LOOP
        EXECUTE format('UPDATE %I SET %I = NULL WHERE %I IS NOT NULL',
                       split_part(secret, '.', 1), split_part(secret, '.', 2), split_part(secret, '.', 2));
    END LOOP;
END $$;
UPDATE hc_backend
   SET active = false,
       breaker_state = 'closed',
       breaker_failure_count = 0;
DELETE FROM ir_config_parameter WHERE key = 'hc_integration_base.metrics_token';
