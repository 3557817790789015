/// The client side of RELP, the Reliable Event Logging Protocol that rsyslog's imrelp speaks.
