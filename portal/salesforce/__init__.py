"""The team's Salesforce connection: OAuth connect/disconnect pages, encrypted tokens, and the one REST client
(`portal.salesforce.client.client_for_connection`) the web app and the workers use."""
