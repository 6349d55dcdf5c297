"""Speaking the EHR's languages: FHIR R4 resources (output, the SDC adaptive questionnaire),
a CDS Hooks 2.0 service and SMART App Launch for the page. Reasoning never imports this."""
