"""A CDS Hooks 2.0 service: discovery, `patient-view` and `encounter-start` hooks that answer
with one card (or none), and feedback.

`security` checks the EHR's signed JWT; `prefetch` gets the FHIR data a call needs (from the
request, else from the EHR's trusted FHIR server, else 412); `record` reads it into a case;
`service` lists the services and builds the card; `models` holds the JSON shapes. The card's
words come from `interfaces.presentation.cards`.
"""
