import type { Knex } from 'knex';

/** The 2.0.1 transactionId string a charger gave one of its sessions; null when the session is not this charger's. */
export async function transactionRefOf(db: Knex, chargerId: string, transactionId: number): Promise<string | null> {
  const row = await db('ocpp201_transactions').where({ charger_id: chargerId, transaction_id: transactionId }).first('transaction_ref') as { transaction_ref?: string } | undefined;
  return row?.transaction_ref ?? null;
}
