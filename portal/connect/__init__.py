"""Team settings → Integrations → Salesforce: the page, Connect (OAuth with PKCE), the callback, Disconnect."""
