import { Layout } from '../layout';

export function NotFoundPage(props: { what: string; back?: { href: string; text: string } }) {
  return (
    <Layout title="Not found">
      <h1>Not found</h1>
      <p>{props.what}</p>
      <p>
        <a href={props.back?.href ?? '/'}>{props.back?.text ?? 'All repositories'}</a>
      </p>
    </Layout>
  );
}
