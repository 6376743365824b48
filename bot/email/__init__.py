"""Email: SendGrid Inbound Parse in, SMTP out, each email one message in the customer's thread."""
