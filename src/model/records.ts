// Records: the ATS records the records ConfigMap (--records-configmap) asks
// for, each key a record name and each value its text. Only what can be
// checked without ATS is checked here (the shape of a name, a value on one
// line); whether ATS knows the record, its type, its range and whether it
// needs a restart are the records publisher's to find out from ATS itself.

import type { RecordsModel } from './model.js';
import { compareText } from './order.js';
import type { Processor } from './state.js';
import { report } from './state.js';

const RECORD_NAME = /^proxy\.config\.[A-Za-z0-9_]+(\.[A-Za-z0-9_-]+)*$/;
const VALUE = /^[\x20-\x7e]*$/;
const MAX_VALUE = 4096;

export const collectRecords: Processor = (state) => {
  const ref = state.config.recordsConfigMap;
  if (!ref) return;
  const key = `${ref.namespace}/${ref.name}`;
  const cm = state.snapshot.configMaps.get(key);
  const records: { name: string; value: string }[] = [];
  const problem = (field: string, message: string) => report(state, 'ConfigMap', ref.namespace, ref.name, field, 'Error', message);
  for (const [name, value] of Object.entries(cm?.data ?? {})) {
    const field = `data[${name}]`;
    if (!RECORD_NAME.test(name)) problem(field, `"${name}" is not a record name (proxy.config.…); it is not applied`);
    else if (value.length > MAX_VALUE) problem(field, `the value is longer than ${MAX_VALUE} characters; it is not applied`);
    else if (!VALUE.test(value)) problem(field, 'the value holds a newline or a control character; it is not applied');
    else records.push({ name, value });
  }
  for (const name of Object.keys(cm?.binaryData ?? {})) problem(`binaryData[${name}]`, 'binaryData is not read: records are text in data; it is not applied');
  records.sort((a, b) => compareText(a.name, b.name));
  const model: RecordsModel = { configMap: key, present: cm !== undefined, records };
  state.records = model;
};
