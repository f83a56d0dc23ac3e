import { Type } from '@sinclair/typebox';
import { Strict } from '../../../core/schema.js';
import type { Transporter } from 'nodemailer';
import { defineChannel } from './channel.js';

/** E-mail through an SMTP server (nodemailer). */
export default defineChannel({
  config: Strict({
    smtp: Strict({
      host: Type.String({ minLength: 1, description: 'SMTP server host name or address.' }),
      port: Type.Integer({ minimum: 1, maximum: 65535, default: 25, description: 'SMTP server port (25, 465 or 587).' }),
      secure: Type.Boolean({ default: false, description: 'true: TLS from the first byte (port 465); false: STARTTLS when the server offers it.' }),
      auth: Type.Optional(Strict({
        user: Type.String({ description: 'SMTP user name.' }),
        pass: Type.String({ description: 'SMTP password; use ${NAME} to take it from the environment.' }),
      }, { description: 'Log in to the SMTP server; leave out for a relay that needs no login.' })),
      tls: Type.Optional(Strict({
        rejectUnauthorized: Type.Boolean({ default: true, description: 'false: accept a self-signed server certificate.' }),
      }, { description: 'TLS settings of the SMTP connection.' })),
    }, { description: 'The SMTP server that sends the e-mails.' }),
    from: Type.String({ minLength: 3, description: 'Sender address, like "ChargeKeeper <alerts@example.org>".' }),
    to: Type.Array(Type.String({ minLength: 3 }), { minItems: 1, description: 'Recipient addresses.' }),
  }),
  describe: (c) => `SMTP ${c.smtp.host}:${c.smtp.port} to ${c.to.join(', ')}`,
  create(c) {
    // Loaded on first use: a site without an e-mail channel never pays its memory.
    let transport: Transporter | null = null;
    const open = async (): Promise<Transporter> => {
      const nodemailer = (await import('nodemailer')).default;
      return nodemailer.createTransport({
        // One kept connection: mails in a burst (an outage) skip the connect, greeting and EHLO (and STARTTLS) each;
        // it closes after `timeout` idle, and a send on a connection the server dropped is retried on a new one.
        pool: true,
        maxConnections: 1,
        host: c.smtp.host,
        port: c.smtp.port,
        secure: c.smtp.secure,
        auth: c.smtp.auth,
        tls: c.smtp.tls,
        connectionTimeout: c.timeout,
        greetingTimeout: c.timeout,
        socketTimeout: c.timeout,
      });
    };
    return {
      async send(notice) {
        transport ??= await open();
        await transport.sendMail({
          from: c.from,
          to: c.to,
          subject: notice.subject,
          text: notice.text,
          // The same id on every retry lets mail clients drop a duplicate sent before a crash.
          messageId: `<${notice.key.replace(/[^A-Za-z0-9.-]/g, '.')}@chargekeeper>`,
          headers: { 'X-ChargeKeeper-Alert': String(notice.alert.id) },
        });
      },
      async close() {
        transport?.close();
      },
    };
  },
});
