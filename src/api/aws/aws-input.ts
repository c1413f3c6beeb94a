import type { Tag } from "../../tags/index.js";
import { awsError, validationError } from "./aws-errors.js";

/** The JSON member name as AWS's validation messages spell it (`SecretId` → `secretId`). */
const member = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

const mustNotBeNull = (name: string) => awsError("ValidationException", `1 validation error detected: Value null at '${member(name)}' failed to satisfy constraint: Member must not be null`);

const wrongType = (name: string, kind: string) => awsError("SerializationException", `The value of ${name} must be ${kind}.`);

interface StringRule {
  required?: boolean;
  min?: number;
  max: number;
  /** Never echo the value in an error (secret values). */
  sensitive?: boolean;
}

/**
 * Reads the members of an AWS JSON request: wrong types are SerializationException, values
 * out of the model's bounds ValidationException ("1 validation error detected: …"), as the
 * AWS front end answers. Unknown members are ignored (newer SDKs send fields Coffer lacks).
 */
export class AwsInput {
  private constructor(private readonly o: Readonly<Record<string, unknown>>) {}

  static of(body: unknown): AwsInput {
    if (body === undefined || body === null) return new AwsInput({});
    if (typeof body !== "object" || Array.isArray(body)) throw awsError("SerializationException", "The request body must be a JSON object.");
    return new AwsInput(body as Record<string, unknown>);
  }

  has(name: string): boolean {
    return this.o[name] !== undefined && this.o[name] !== null;
  }

  string(name: string, rule: StringRule): string | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) {
      if (rule.required) throw mustNotBeNull(name);
      return undefined;
    }
    if (typeof v !== "string") throw wrongType(name, "a string");
    const shown = rule.sensitive ? undefined : v;
    if (v.length > rule.max) throw validationError(member(name), shown, `Member must have length less than or equal to ${rule.max}`);
    if (rule.min !== undefined && v.length < rule.min) throw validationError(member(name), shown, `Member must have length greater than or equal to ${rule.min}`);
    return v;
  }

  requiredString(name: string, rule: Omit<StringRule, "required">): string {
    return this.string(name, { ...rule, required: true })!;
  }

  int(name: string, rule: { min: number; max: number }): number | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) throw wrongType(name, "an integer");
    if (v < rule.min) throw validationError(member(name), String(v), `Member must have value greater than or equal to ${rule.min}`);
    if (v > rule.max) throw validationError(member(name), String(v), `Member must have value less than or equal to ${rule.max}`);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw wrongType(name, "a boolean");
    return v;
  }

  stringList(name: string, rule: { maxItems: number; itemMax: number; minItems?: number; required?: boolean }): string[] | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) {
      if (rule.required) throw mustNotBeNull(name);
      return undefined;
    }
    if (!Array.isArray(v)) throw wrongType(name, "a list of strings");
    if (v.length > rule.maxItems) throw validationError(member(name), undefined, `Member must have length less than or equal to ${rule.maxItems}`);
    if (rule.minItems !== undefined && v.length < rule.minItems) throw validationError(member(name), undefined, `Member must have length greater than or equal to ${rule.minItems}`);
    return v.map((x, i) => {
      if (typeof x !== "string") throw wrongType(`${name}[${i}]`, "a string");
      if (x.length > rule.itemMax) throw validationError(`${member(name)}.${i + 1}.member`, x, `Member must have length less than or equal to ${rule.itemMax}`);
      return x;
    });
  }

  /** A list of objects (Tags, Filters, AddReplicaRegions), each read with its own AwsInput. */
  objects(name: string, maxItems: number): AwsInput[] | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw wrongType(name, "a list");
    if (v.length > maxItems) throw validationError(member(name), undefined, `Member must have length less than or equal to ${maxItems}`);
    return v.map((x) => {
      if (typeof x !== "object" || x === null || Array.isArray(x)) throw wrongType(name, "a list of objects");
      return new AwsInput(x as Record<string, unknown>);
    });
  }

  object(name: string): AwsInput | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw wrongType(name, "an object");
    return new AwsInput(v as Record<string, unknown>);
  }

  /** `Tags: [{Key, Value}]` as Coffer tags (Coffer's tag rules are checked by the service; `aws:` is reserved, as on AWS). */
  tags(name = "Tags"): Tag[] | undefined {
    return this.objects(name, 50)?.map((t) => {
      const key = t.requiredString("Key", { min: 1, max: 128 });
      if (/^aws:/i.test(key)) throw awsError("InvalidParameterException", `The tag key ${key} uses the reserved prefix aws:.`);
      return { key, value: t.string("Value", { max: 256 }) ?? "" };
    });
  }
}
