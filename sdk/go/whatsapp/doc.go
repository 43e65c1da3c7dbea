// WhatsApp Cloud API webhook routing as infrastructure: the alternate callback URLs of WABAs and phone numbers, and the app's own webhook subscription.
package whatsapp
